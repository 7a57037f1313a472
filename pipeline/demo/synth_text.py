"""Word lists for the synthetic submissions of pipeline/demo/synth.py.

Free text only: household situations, investigations, results, remarks, finders and
village names, the way township clerks write them. The form itself (columns,
vocabularies, townships) always comes from pipeline/rules/spec.py, never from here. Every
person made from these lists is fictitious.
"""

from __future__ import annotations

import random
import zlib
from datetime import date, timedelta
from functools import cache

from pipeline.rules import spec, townships

# --- villages -----------------------------------------------------------------------

# Stems of village and community names of the kind found in the Wuling mountains.
VILLAGE_STEMS = (
    "石钟", "新安", "桥梁", "双龙", "石堡", "红岩", "龙桥", "青杠", "金龙", "三塘", "梨子", "太平",
    "杉木", "永安", "官坝", "丰收", "大坪", "柏杨", "桂花", "白果", "水井", "沙湾", "茶园", "松林",
    "寨子", "团结", "光明", "长春", "麒麟", "花园", "望城", "河坝", "平溪", "下坝", "高峰", "岩门",
    "竹园", "凤凰", "云顶", "泉水", "五福", "马鞍", "兴隆", "合心", "白岩", "杨家", "田坝", "新建",
    "胜利", "银杏", "黄泥", "响水", "关口", "枫香", "石门", "朝阳", "鱼泉", "仁和", "鸡公", "堡上",
)


@cache
def villages(township: str) -> tuple[str, ...]:
    """A fixed small list of villages and communities for a township (fictitious but plausible).

    街道 are mostly 社区, 镇 have one 社区 at the town centre and 村 around it, 乡 are 村.
    Example: villages("城西街道") → ("石钟社区", "新安社区", …)
    """
    types = {t.name: t for t in townships.listed()}
    kind = types[township].type if township in types else "镇"
    rng = random.Random(zlib.crc32(township.encode("utf-8")))
    count = rng.randint(6, 10)
    stems = rng.sample(VILLAGE_STEMS, count)
    if kind == "街道":
        return tuple(f"{s}社区" if i < count - 2 else f"{s}村" for i, s in enumerate(stems))
    if kind == "镇":
        short = types[township].short if township in types else township[:-1]
        return (f"{short}社区", *(f"{s}村" for s in stems[1:]))
    return tuple(f"{s}村" for s in stems)


# --- names and phone numbers --------------------------------------------------------

# Names are drawn from Faker's zh_CN lists (surnames with their frequency, given names by
# sex) with our own random generator: the same people for the same seed, and ten times
# faster than calling Faker per name. About half the given names are two characters.

# Fictitious names of the form 名·姓 that some minority citizens carry on their ID card.
MINORITY_GIVEN = ("阿依古丽", "古丽娜尔", "热依拉", "艾力", "努尔", "巴特尔", "扎西", "卓玛", "次仁",
                  "阿卜杜", "迪丽拜尔", "帕提曼")
MINORITY_FAMILY = ("买买提", "吐尔逊", "艾山", "多吉", "阿不都", "玉素甫", "尼亚孜", "格桑")


@cache
def _faker_lists():
    from faker.providers.person.zh_CN import Provider as Names
    from faker.providers.phone_number.zh_CN import Provider as Phones

    surnames = list(Names.last_names)
    weights, total = [], 0.0
    for name in surnames:
        total += float(Names.last_names[name])
        weights.append(total)
    given = {True: list(Names.first_names_male), False: list(Names.first_names_female)}
    single = {sex: [g for g in names if len(g) == 1] for sex, names in given.items()}
    return surnames, weights, given, single, [str(p) for p in Phones.phonenumber_prefixes]


def person_name(rng: random.Random, male: bool, *, minority_share: float = 0.0) -> str:
    """A fictitious Chinese name: 王秀英, 李伟强; with `minority_share`, sometimes 阿依古丽·买买提."""
    if minority_share and rng.random() < minority_share:
        return f"{rng.choice(MINORITY_GIVEN)}·{rng.choice(MINORITY_FAMILY)}"
    surnames, weights, given, single, _ = _faker_lists()
    surname = rng.choices(surnames, cum_weights=weights)[0]
    if rng.random() < 0.5:
        return surname + rng.choice(given[male])
    return surname + rng.choice(single[male]) + rng.choice(single[male])


def mobile(rng: random.Random) -> str:
    """An 11-digit mobile number with a prefix from Faker's zh_CN list."""
    return rng.choice(_faker_lists()[4]) + f"{rng.randrange(10**8):08d}"

# --- finders ------------------------------------------------------------------------

PERSON_FINDER = ("{name}", "{name}", "网格员{name}", "村委会{name}", "社会救助协理员{name}",
                 "驻村工作队{name}", "村支书{name}", "民政办{name}")
VISITORS = ("{name}", "协理员{name}", "民政办{name}", "网格员{name}")
PUSH_FINDER = ("区医保局", "区残联", "区人力社保局", "区教委", "区乡村振兴局", "区卫生健康委",
               "社会救助信息平台", "区医保局推送", "低收入人口监测平台")



def finder(rng: random.Random, method: str) -> str:
    """发现人: the department that pushed the case, or the cadre who found it."""
    if "推送" in method:
        return rng.choice(PUSH_FINDER)
    return rng.choice(PERSON_FINDER).format(name=person_name(rng, rng.random() < 0.5))


# --- household ----------------------------------------------------------------------

CONDITIONS = (
    "本人患尿毒症长期透析", "本人患肺癌正在化疗", "本人因车祸致残（肢体二级）", "本人患精神分裂症需长期服药",
    "本人突发脑溢血住院治疗", "本人患糖尿病并发症", "本人智力残疾（三级）", "本人患乳腺癌术后康复",
    "本人务农收入低且患慢性病", "本人务工时受伤丧失劳动能力", "本人双目失明", "本人患白血病", "本人因病致贫",
    "本人患严重风湿病行走困难", "本人听力言语残疾",
)
CONDITIONS_OLD = ("本人年老体弱无劳动能力", "本人患阿尔茨海默病", "本人中风后半身不遂", "本人年老多病常年服药")
SPOUSE = {True: ("妻子务农", "妻子患慢性病", "妻子残疾（肢体三级）", "妻子在家照料家人"),
          False: ("丈夫外出务工收入不稳定", "丈夫已去世", "丈夫务农", "丈夫患肝癌")}
# Other members by the age of the person: under 45, 45 to 64, 65 and over.
MEMBERS = (
    (45, ("儿子在读初中", "女儿在读小学", "儿子患先天性心脏病", "女儿在读幼儿园", "父亲年迈多病", "母亲患高血压",
          "母亲瘫痪在床")),
    (65, ("儿子在读高中", "女儿在读大学", "儿子在外务工", "女儿已出嫁", "父亲年迈多病", "母亲患高血压",
          "儿子在读职高")),
    (200, ("儿子在外务工", "女儿已出嫁", "孙子在读小学", "孙女在读初中", "儿子患病无劳动能力", "儿媳务农")),
)
HOUSING = ("住房为C级危房", "房屋因暴雨受损", "租房居住", "住房简陋", "无自有住房，借住亲戚家")
ALONE = ("本人独居", "本人独居，无子女", "本人未婚独居")
ALONE_OLD = ("本人丧偶独居", "本人独居，子女均在外地")


def household(rng: random.Random, *, male: bool, age: int) -> str:
    """家庭基本情况: 户籍人口3人，本人患尿毒症长期透析，妻子务农，儿子在读高中，家庭年收入约1.2万元."""
    size = rng.choices((1, 2, 3, 4, 5, 6), weights=(15, 25, 25, 20, 10, 5))[0]
    parts = [f"户籍人口{size}人"]
    old = age >= 65
    if size == 1:
        parts.append(rng.choice(ALONE_OLD if old and rng.random() < 0.6 else ALONE))
    parts.append(rng.choice(CONDITIONS_OLD if old and rng.random() < 0.5 else CONDITIONS))
    others = next(members for limit, members in MEMBERS if age < limit)
    if size >= 2 and age >= 22 and rng.random() < 0.7:
        parts.append(rng.choice(SPOUSE[male]))
        others_count = size - 2
    else:
        others_count = size - 1
    parts.extend(rng.sample(others, min(others_count, 3)))
    if rng.random() < 0.25:
        parts.append(rng.choice(HOUSING))
    if rng.random() < 0.1:
        parts.append("无固定收入")
    else:
        parts.append(f"家庭年收入约{rng.randint(3, 40) / 10:g}万元")
    return "，".join(parts)


# --- investigation ------------------------------------------------------------------

INVESTIGATION = {
    "new_assisted": (
        "经入户调查核实，家庭人均收入低于我区低保标准，符合条件",
        "经入户核实，因病导致基本生活暂时困难，符合临时救助条件",
        "已入户调查，家庭经济状况核对无异常，情况属实",
        "经入户走访和信息核对，家庭财产状况符合规定",
        "经村民主评议和入户调查，情况属实",
    ),
    "observation": (
        "经入户调查，家庭人均收入略高于低保标准，但因病支出大，生活确有困难",
        "经核对，家中有车辆一台，不符合低保条件，但生活确实困难",
        "经调查，子女有赡养能力但赡养费不足，生活较困难",
        "经入户核实，家庭收入略超标准，医疗支出较大",
    ),
    "closed": (
        "经入户调查，家庭成员有稳定收入，人均收入高于低保标准",
        "经核对，子女有赡养能力，家庭经济状况较好",
        "经调查，名下有商品房两套，家庭财产超标",
        "经入户核实，本人已外出务工，收入稳定",
    ),
    "pending": (
        "已入户走访，正在核实家庭经济状况",
        "已安排协理员入户调查",
        "已完成入户调查，待经济状况核对",
    ),
}

# --- results ------------------------------------------------------------------------

# {programme} one of the programmes brought in with 纳入, {date} a date text.
ASSIST_RESULTS = ("纳入{programme}，{date}", "{date}纳入{programme}", "已纳入{programme}，{date}",
                  "纳入{programme}，纳入时间{date}", "整户纳入{programme}，{date}")
MONITORING_RESULTS = ("纳入低收入人口动态监测，{date}", "{date}纳入低收入人口动态监测")
TEMPORARY = "临时救助"  # the programme whose result often names the amount
TEMPORARY_RESULTS = ("给予临时救助{amount}元，{date}", "{date}给予临时救助{amount}元")
# A referral: the other department gives the help; no date needed.
REFERRALS = {
    "医疗救助": ("转介区医保局医疗救助", "转介至区医保局办理医疗救助"),
    "教育救助": ("转介区教委教育救助", "转介至区教委，办理教育救助"),
    "住房救助": ("转介区住房城乡建委住房救助", "转介区住建委危房改造"),
    "就业救助": ("转介区人力社保局就业救助", "转介区就业服务中心安排公益性岗位"),
    "受灾人员救助": ("转介区应急局受灾人员救助",),
}
OBSERVATION_RESULTS = ("不符合救助条件，列入观察", "不符合救助条件，列入观察名单", "不符合低保条件，列入观察",
                       "不符合救助条件")  # the last one: 备注 states the hardship
CLOSED_RESULTS = ("不符合救助条件", "不符合救助条件", "经审核不符合低保条件", "家庭收入超标，不符合救助条件",
                  "本人放弃申请")
PENDING_RESULTS = ("审核中", "正在入户核实", "已上报，待审批")

def result(rng: random.Random, outcome: str, types: list[str], discovered: date, as_of: date) -> tuple:
    """(办理结果, 备注) for an outcome, as a township clerk writes them."""
    if outcome == "new_assisted":
        span = max((as_of - discovered).days, 0)
        day = date_text(discovered + timedelta(days=rng.randint(min(1, span), span)), rng)
        referable = [t for t in types if t in REFERRALS]
        remark = rng.choice(OTHER_REMARKS) or None
        if referable and rng.random() < 0.35:
            return rng.choice(REFERRALS[rng.choice(referable)]), remark
        if rng.random() < 0.12:
            return rng.choice(MONITORING_RESULTS).format(date=day), remark
        programmes = [t for t in spec.vocabulary("assistance_types").values if t not in REFERRALS]
        programme = next((t for t in types if t in programmes), programmes[0])
        if programme == TEMPORARY and rng.random() < 0.4:  # often with the amount
            amount = rng.choice((500, 1000, 2000, 3000))
            return rng.choice(TEMPORARY_RESULTS).format(date=day, amount=amount), remark
        return rng.choice(ASSIST_RESULTS).format(programme=programme, date=day), remark
    if outcome == "observation":
        return rng.choice(OBSERVATION_RESULTS), rng.choice(HARDSHIP_REMARKS)
    if outcome == "closed":
        return rng.choice(CLOSED_RESULTS), rng.choice(CLOSED_REMARKS) or None
    pending = rng.choice(PENDING_RESULTS) if rng.random() < 0.15 else None
    return pending, rng.choice(OTHER_REMARKS) or None


# --- remarks ------------------------------------------------------------------------

HARDSHIP_REMARKS = (
    "因病支出较大，生活仍较困难", "家庭收入略高于低保标准，但医疗费用负担重", "子女在读，教育支出大",
    "本人常年服药，生活困难", "房屋破旧，基本生活困难", "赡养人收入低，无力赡养",
)
OTHER_REMARKS = ("", "", "", "", "已告知申请流程", "协理员持续跟进", "已建立台账")
CLOSED_REMARKS = ("", "", "无")

# --- visits -------------------------------------------------------------------------

VISIT_SEEN = ("入户走访，了解近期生活情况", "本人在家，身体状况稳定", "走访慰问，宣传救助政策",
              "了解就医情况，告知医疗救助政策", "入户核实家庭收入变化")
VISIT_NOT_SEEN = ("本人外出就医，未见到本人，已电话联系", "家中无人，已留联系卡", "本人外出务工，与家属了解情况",
                  "门锁未见人，已告知村委会")

# --- preamble and footer ------------------------------------------------------------

UNIT_TEXT = "填报单位：{district}{township}（盖章）"
DATE_TEXT = "填报日期：{date}"
FOOTER_CELLS = ("填表人：{clerk}", "审核人：{reviewer}", "联系电话：{phone}")
TOTAL_TEXT = "合计：{count}人"
LOOKUP_SHEET = "下拉选项"

# --- mistakes that make_submission injects -------------------------------------------

BAD_METHODS = ("电话发现", "群众来访", "网上发现")
BAD_TYPES = ("低保户救助金", "五保户补贴", "残疾人两项补贴")
BAD_TOWNSHIPS = ("城北街道", "石柱镇", "彭水县", "新城街道")
BAD_DATES = ("2022.13.45", "去年冬天", "2026年2月30日", "十一月初")

# --- file names ---------------------------------------------------------------------

FILE_NAMES = ("{township}_{compact}.{ext}", "{short}{mmdd}.{ext}",
              "{district}{township}社会救助主动发现明细表.{ext}", "{township}主动发现台账（{month}月）.{ext}",
              "附件：{township}救助对象明细表{compact}.{ext}")


def date_text(day: date, rng: random.Random) -> str:
    """A date the way people type it: 2022年11月20日, 2022.11.20, 2022/11/20 or 2022-11-20."""
    forms = (f"{day.year}年{day.month}月{day.day}日", f"{day.year}.{day.month:02d}.{day.day:02d}",
             f"{day.year}/{day.month}/{day.day}", f"{day.year}-{day.month:02d}-{day.day:02d}")
    return rng.choice(forms)
