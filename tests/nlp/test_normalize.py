import unicodedata

import pytest

from nlp.cnnum import cn_to_int
from nlp.normalize import normalize, to_simplified


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("三号楼二单元", "3栋2单元"),
        ("十二栋", "12栋"),
        ("五〇二室", "502室"),
        ("五零二室", "502室"),
        ("二十三栋一单元", "23栋1单元"),
        ("7号楼", "7栋"),
        ("东区5幢", "东区5栋"),
        ("我家在东区五幢", "我家在东区5栋"),
        ("２单元５０２", "2单元502"),  # full-width digits
        ("ＡＢＣ", "abc"),
        ("楼道燈壞了", "楼道灯坏了"),  # traditional
        ("我們社區的電梯", "我们社区的电梯"),
        ("楼 道 灯 坏 了 。", "楼道灯坏了"),  # voice recognition: spaces and a final 。
        ("灯坏了。没人修。", "灯坏了。没人修"),  # inner 。 kept, final one dropped
        ("吵死了！！！", "吵死了!"),
        ("你好😀😀", "你好"),
        ("你好[微笑]", "你好"),
        ("a\x00b\x07c", "abc"),
        ("  多个   空格  ", "多个空格"),  # spaces between Chinese characters carry nothing
        ("hello   world", "hello world"),
        ("三楼楼道灯不亮", "3楼楼道灯不亮"),
        ("一楼道灯", "一楼道灯"),  # "楼道" is not a floor
        ("一二三四五", "一二三四五"),  # prose, not a room number
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_normalize_degenerate_inputs():
    assert normalize("") == ""
    assert normalize("   \n\t ") == ""
    assert normalize("😀🎉👍") == ""
    assert normalize("\u200b\u200d") == ""


def test_simplified_fast_path_returns_same_object():
    text = "楼道灯坏了" * 100
    assert to_simplified(text) is text


@pytest.mark.parametrize("text, value", [("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105), ("五〇二", 502), ("三", 3), ("12", 12)])
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


def test_cn_to_int_rejects_words():
    assert cn_to_int("楼道") is None
    assert cn_to_int("") is None


def _every_step(text: str) -> str:
    """normalize with each step's substitutions always run (no "is there anything to do?"
    search first): what the quick path must give for every text."""
    from nlp import normalize as n

    text = unicodedata.normalize("NFKC", text)
    text = n._DROPPED.sub("", n._WECHAT_EMOTICON.sub(" ", text))
    text = n.to_simplified(text).lower()
    text = n._SPACES.sub(" ", text).strip()
    text = n._SPACE_BETWEEN_CJK.sub("", text)
    text = n._REPEATED_PUNCT.sub(lambda m: m.group(1), text)
    text = n._LEADING.sub("", n._TRAILING.sub("", text))
    text = n._DIGIT_RUN.sub(n._digit_run, n._ADDR_UNIT.sub(n._addr_unit, text))
    return n._ARABIC_BUILDING.sub(lambda m: f"{m.group(1)}栋", text)


def _our_training_sentences() -> list[str]:
    from pathlib import Path

    import nlp

    folder = Path(nlp.__file__).parent / "data" / "train"
    lines = [line.strip() for path in sorted(folder.glob("*.txt")) for line in path.read_text("utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_quick_path_changes_nothing():
    extra = ["你好", "  你好。。。", "。你好", "好的！！", "[捂脸]谢谢", "3 栋 2 单元", "五〇二室", "三号楼二单元",
             "灯坏了😂", "\u200b零宽", "ＡＢＣ１２３", "12号楼", "你好\n", "哦~~", "…"]
    for text in _our_training_sentences() + extra:
        assert normalize(text) == _every_step(text), text
