import pytest

from nlp.faq import FaqEntry, FaqIndex, load_entries


@pytest.fixture(scope="module")
def index(engine):
    return FaqIndex(load_entries(), engine.tokenize)


def test_demo_faq_is_rich_enough():
    entries = load_entries()
    assert len(entries) >= 30
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.question and e.answer and e.keywords for e in entries)


@pytest.mark.parametrize(
    "question, entry_id",
    [
        ("居住证怎么办理", "juzhuzheng"),
        ("办居住证要带什么", "juzhuzheng"),
        ("老年证在哪办", "laonianzheng"),
        ("低保申请条件", "dibao"),
        ("高龄补贴多少钱", "gaolingbutie"),
        ("幸福食堂几点开门", "xingfushitang-hours"),
        ("红色驿站开到几点", "hongseyizhan"),
        ("律师什么时候来", "lvshi"),
        ("电动车去哪上牌", "diandongche-shangpai"),
        ("小孩出生了怎么上户口", "xinshenger"),
        ("医保怎么交", "yibao"),
        ("垃圾几点扔", "laji-fenlei"),
        ("打疫苗去哪", "yimiao"),
        ("开居住证明", "juzhu-zhengming"),
        ("退伍军人优待证", "tuiyijunren"),
        ("社区几点上班", "fuwu-dating"),
        ("居住證怎麼辦理", "juzhuzheng"),  # traditional characters
    ],
)
def test_matches(index, question, entry_id):
    best = index.best(question)
    assert best is not None and best.id == entry_id
    assert index.search(question)[0][0].id == entry_id


@pytest.mark.parametrize(
    "question",
    ["驾照怎么办理", "护照怎么办理", "怎么办理", "明天天气怎么样", "你好", "楼道灯坏了", "股票怎么买", "", "😀"],
)
def test_non_matches(index, question):
    assert index.best(question) is None


def test_search_is_ranked_and_bounded(index):
    results = index.search("居住证", k=2)
    assert len(results) == 2
    assert results[0][1] >= results[1][1] > 0


def test_small_custom_index_with_plain_tokenizer():
    entries = [
        FaqEntry("a", "食堂几点开门", "11点", ["食堂"]),
        FaqEntry("b", "驿站几点开门", "8点", ["驿站"]),
        FaqEntry("c", "律师哪天来", "周三", ["律师"]),
        FaqEntry("d", "医保怎么交", "线上", ["医保"]),
        FaqEntry("e", "疫苗在哪打", "卫生服务中心", ["疫苗"]),
    ]
    index = FaqIndex(entries, lambda text: list(text))  # character tokens, FAQ idf weights
    assert index.best("食堂几点开门").id == "a"
    assert index.best("电梯") is None
    assert FaqIndex([], str.split).best("食堂") is None
