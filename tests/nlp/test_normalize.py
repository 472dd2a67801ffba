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
