import pytest

from nlp.tokenize import cache_dir


@pytest.mark.parametrize(
    "text, word",
    [
        ("3栋楼道灯坏了", "楼道灯"),
        ("化粪池满了", "化粪池"),
        ("单元门关不上", "单元门"),
        ("门禁刷不开", "门禁"),
        ("下水道堵了", "下水道"),
        ("建议多装充电桩", "充电桩"),
        ("找网格员", "网格员"),
        ("我们楼的党员中心户", "党员中心户"),
        ("红色驿站几点开门", "红色驿站"),
        ("幸福食堂的饭", "幸福食堂"),
        ("我的工单", "工单"),
        ("积分超市有什么", "积分超市"),
    ],
)
def test_community_words_are_single_tokens(engine, text, word):
    assert word in engine.tokenize(text)


def test_tokenize_drops_punctuation_and_space(engine):
    tokens = engine.tokenize("你好， 楼道灯坏了！")
    assert "," not in tokens and "!" not in tokens and " " not in tokens


def test_cache_dir_is_writable(tmp_path, monkeypatch):
    monkeypatch.setenv("LINLI_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == str(tmp_path / "c")
