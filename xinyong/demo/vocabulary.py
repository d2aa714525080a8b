"""The words the demo data is made of: departments, industries, violations, licences, names.

Everything here is synthetic. Legal citations name real laws so that the records read like real ones, but the
article numbers are illustrative: demo data is never a legal source.
"""

from __future__ import annotations

from dataclasses import dataclass

PENALTY = "administrative_penalty"
LICENSE = "administrative_license"
SERIOUS_LIST = "serious_dishonesty_list"
ABNORMAL = "abnormal_operation"
DEBTOR = "dishonest_judgment_debtor"
TAX_A = "tax_credit_a"
GOVERNMENT = "government_dishonesty"

# 处罚类别 (DESIGN §3.3): code → name.

# The severity mix comes from the categories a department decides (DESIGN §4.1 derives 轻微/一般/严重 from them):
# mostly warnings and fines, some confiscation, few revocations and closures. (categories, weight)
OUTCOMES_ORGANISATION: tuple[tuple[tuple[str, ...], float], ...] = (
    (("01",), 0.16),
    (("02",), 0.42),
    (("01", "02"), 0.10),
    (("03", "02"), 0.14),
    (("09", "02"), 0.03),
    (("08",), 0.02),
    (("04", "02"), 0.03),
    (("11",), 0.02),
    (("10",), 0.01),
    (("12", "02"), 0.01),
    (("05",), 0.02),
    (("05", "02"), 0.01),
    (("14",), 0.01),
    (("13", "02"), 0.005),
)
OUTCOMES_PERSON: tuple[tuple[tuple[str, ...], float], ...] = (
    (("01",), 0.30),
    (("02",), 0.50),
    (("01", "02"), 0.08),
    (("03", "02"), 0.10),
    (("13", "02"), 0.02),
)


@dataclass(frozen=True)
class Violation:
    """One kind of violation a department punishes: type, facts, legal basis and the size of fines (yuan)."""

    kind: str  # 违法行为类型
    facts: str  # 违法事实, with {place} {goods} {days} {value} placeholders
    basis: str  # 处罚依据
    fine: tuple[int, int]
    persons: bool = False  # can be committed by a natural person


@dataclass(frozen=True)
class LicenceType:
    certificate: str  # 许可证书名称 ("" when the decision has no certificate)
    content: str  # 许可内容
    category: str  # 许可类别: 普通/特许/认可/核准/登记/其他
    years: int  # validity in years; 0 = long-term (2099-12-31)
    number: str  # 许可编号 pattern: {region} {seq} {year} {uscc}
    code: str  # short code inside document numbers (食经, 排污 …)


@dataclass(frozen=True)
class Department:
    key: str
    name: str  # as it appears after the region: 市场监督管理局
    abbr: str  # inside short names: 市监 (淄市监, 张店市监)
    levels: tuple[str, ...]  # city / district
    resources: tuple[str, ...]
    penalty_word: str = "罚"  # 淄环罚〔2025〕15号
    violations: tuple[Violation, ...] = ()
    licences: tuple[LicenceType, ...] = ()
    list_name: str = ""  # the 严重失信主体名单 this department keeps
    list_basis: str = ""


_FOOD = Violation(
    "违反食品安全管理规定",
    "当事人在{place}销售超过保质期的{goods}，货值金额{value}元，违法所得{gain}元。",
    "《中华人民共和国食品安全法》第一百二十四条第一款",
    (5_000, 100_000),
)
_FOOD_LICENCE = Violation(
    "未取得食品经营许可从事食品经营活动",
    "当事人未取得食品经营许可，自{since}起在{place}从事{goods}经营活动，违法所得{gain}元。",
    "《中华人民共和国食品安全法》第一百二十二条第一款",
    (5_000, 50_000),
    persons=True,
)
_ADVERTISING = Violation(
    "发布虚假广告",
    "当事人在其微信公众号发布含有“{claim}”等内容的广告，无法提供证明材料，构成虚假广告。",
    "《中华人民共和国广告法》第五十五条第一款",
    (20_000, 200_000),
)
_PRICES = Violation(
    "不按规定明码标价",
    "当事人在{place}销售的{goods}未按规定明码标价，经责令改正后仍未改正。",
    "《明码标价和禁止价格欺诈规定》第二十一条、《中华人民共和国价格法》第四十二条",
    (500, 5_000),
    persons=True,
)
_METROLOGY = Violation(
    "使用不合格计量器具",
    "当事人在经营中使用未经检定的电子计价秤{count}台，用于贸易结算。",
    "《中华人民共和国计量法实施细则》第四十三条",
    (1_000, 10_000),
)
_AIR = Violation(
    "超标排放大气污染物",
    "经监测，当事人{process}排放口颗粒物排放浓度超过《{standard}》规定限值{times}倍。",
    "《中华人民共和国大气污染防治法》第九十九条第（二）项",
    (100_000, 1_000_000),
)
_DUST = Violation(
    "未采取防尘措施",
    "当事人露天堆放{material}等易产生扬尘的物料，未采取密闭或者覆盖等防尘措施。",
    "《中华人民共和国大气污染防治法》第一百一十七条第（一）项",
    (10_000, 100_000),
)
_WASTE = Violation(
    "危险废物贮存不规范",
    "当事人将{waste}露天堆放于厂区{place_in}，未设置危险废物识别标志，未采取防扬散、防流失、防渗漏措施。",
    "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款",
    (100_000, 1_000_000),
)
_EIA = Violation(
    "建设项目未依法报批环境影响评价文件擅自开工建设",
    "当事人{project}未依法报批建设项目环境影响报告表，擅自开工建设。",
    "《中华人民共和国环境影响评价法》第三十一条第一款",
    (50_000, 500_000),
)
_TRAINING = Violation(
    "未按规定对从业人员进行安全生产教育和培训",
    "当事人未按规定对{count}名{role}进行安全生产教育和培训，且未如实记录培训情况。",
    "《中华人民共和国安全生产法》第九十七条第（三）项",
    (10_000, 100_000),
)
_HAZARD = Violation(
    "未采取措施消除事故隐患",
    "当事人{area}存在{hazard}等事故隐患，经责令限期整改，逾期未整改。",
    "《中华人民共和国安全生产法》第一百零二条",
    (50_000, 100_000),
)
_CHEMICALS = Violation(
    "危险化学品储存不符合规定",
    "当事人将{chemical}与禁忌物料混存于同一库房，未按规定设置相应的安全设施、设备。",
    "《危险化学品安全管理条例》第八十条第一款",
    (50_000, 100_000),
)
_TAX_LATE = Violation(
    "未按规定期限办理纳税申报",
    "当事人未按照规定期限办理{tax}纳税申报（所属期{period}）。",
    "《中华人民共和国税收征收管理法》第六十二条",
    (200, 2_000),
    persons=True,
)
_INVOICE = Violation(
    "虚开发票",
    "当事人在没有真实交易的情况下，为他人开具增值税普通发票{count}份，金额合计{value}元。",
    "《中华人民共和国发票管理办法》第三十五条",
    (50_000, 500_000),
)
_EVASION = Violation(
    "偷税",
    "当事人通过少列收入的方式，少缴{tax}{value}元。",
    "《中华人民共和国税收征收管理法》第六十三条第一款",
    (20_000, 800_000),
)
_WAGES = Violation(
    "拖欠劳动者工资",
    "当事人拖欠{count}名劳动者工资共计{value}元，经责令限期支付，逾期未支付。",
    "《保障农民工工资支付条例》第五十五条、《劳动保障监察条例》第二十六条",
    (20_000, 200_000),
)
_INSURANCE = Violation(
    "未依法办理社会保险登记",
    "当事人自{since}起未依法为{count}名职工办理社会保险登记，经责令限期改正，逾期未改正。",
    "《中华人民共和国社会保险法》第八十四条",
    (1_000, 30_000),
)
_PERMIT = Violation(
    "未取得施工许可证擅自施工",
    "当事人承建的{project}在未取得建筑工程施工许可证的情况下擅自施工。",
    "《建设工程质量管理条例》第五十七条",
    (50_000, 500_000),
)
_SITE_SAFETY = Violation(
    "施工现场安全防护不符合规定",
    "当事人在{project}施工现场未在危险部位设置明显的安全警示标志，脚手架未按规定搭设。",
    "《建设工程安全生产管理条例》第六十二条",
    (50_000, 100_000),
)
_OVERLOAD = Violation(
    "车辆超限运输",
    "当事人所属车牌号为{plate}的货车在{road}超限运输，车货总重{tons}吨，超限{over}吨。",
    "《公路安全保护条例》第六十四条",
    (2_000, 30_000),
    persons=True,
)
_UNLICENSED_TRANSPORT = Violation(
    "未取得道路运输经营许可擅自从事道路运输经营",
    "当事人驾驶车牌号为{plate}的车辆，未取得道路运输经营许可，擅自从事道路旅客运输经营。",
    "《中华人民共和国道路运输条例》第六十三条",
    (10_000, 50_000),
    persons=True,
)
_REPAIR_SHOP = Violation(
    "机动车维修经营者未按规定进行维修",
    "当事人承修的车牌号为{plate}的车辆未按规定的维修技术规范进行维修，维修记录不完整。",
    "《机动车维修管理规定》第五十二条",
    (5_000, 50_000),
)
_STREET = Violation(
    "擅自占用城市道路",
    "当事人未经批准，擅自在{street}占用人行道{area}平方米从事经营活动。",
    "《城市道路管理条例》第四十二条",
    (200, 5_000),
    persons=True,
)
_SIGNS = Violation(
    "擅自设置户外广告",
    "当事人未经批准，在{street}擅自设置户外广告牌{count}块。",
    "《城市市容和环境卫生管理条例》第三十六条",
    (1_000, 10_000),
    persons=True,
)
_DEBRIS = Violation(
    "随意倾倒建筑垃圾",
    "当事人于{since}将建筑垃圾约{tons}吨倾倒于{street}路边空地。",
    "《城市建筑垃圾管理规定》第二十六条",
    (5_000, 50_000),
    persons=True,
)
_HEALTH_CERT = Violation(
    "安排未获得有效健康合格证明的从业人员从事直接为顾客服务的工作",
    "当事人安排{count}名未取得有效健康合格证明的从业人员从事直接为顾客服务的工作。",
    "《公共场所卫生管理条例实施细则》第三十八条",
    (500, 5_000),
)
_MEDICAL = Violation(
    "使用非卫生技术人员从事医疗卫生技术工作",
    "当事人使用未取得执业资格的人员{count}名从事{work}工作。",
    "《医疗机构管理条例》第四十七条",
    (10_000, 100_000),
)
_OCCUPATIONAL = Violation(
    "未按规定组织职业健康检查",
    "当事人未按照规定组织{count}名接触职业病危害因素的劳动者进行上岗前职业健康检查。",
    "《中华人民共和国职业病防治法》第七十一条第（四）项",
    (50_000, 100_000),
)

_L = LicenceType
FOOD_TRADE = _L(
    "食品经营许可证",
    "预包装食品销售（含冷藏冷冻食品）；热食类食品制售",
    "普通",
    5,
    "JY1{region}{seq:07d}",
    "食经",
)
FOOD_PRODUCTION = _L("食品生产许可证", "糕点；速冻食品", "普通", 5, "SC1{region}{seq:07d}", "食产")
DRUG_TRADE = _L("药品经营许可证", "中成药、化学药制剂、生物制品（除疫苗）", "普通", 5, "鲁AA{region}{seq:04d}", "药经")
POLLUTANT = _L("排污许可证", "准予核发排污许可证（重点管理）", "普通", 5, "{uscc}001P", "排污")
EIA_APPROVAL = _L("", "建设项目环境影响报告表审批", "核准", 0, "", "环审")
SAFETY_PRODUCTION = _L("安全生产许可证", "危险化学品生产", "普通", 3, "（鲁）WH安许证字〔{year}〕{seq:06d}", "安许")
CHEMICAL_TRADE = _L(
    "危险化学品经营许可证", "汽油、柴油（闭杯闪点≤60℃）的零售", "普通", 3, "鲁危化经字〔{year}〕{seq:06d}", "危化"
)
CONSTRUCTION_PERMIT = _L("建筑工程施工许可证", "建筑工程施工许可", "普通", 0, "{region}{year}{seq:06d}0101", "施许")
CONSTRUCTION_GRADE = _L("建筑业企业资质证书", "建筑工程施工总承包贰级", "认可", 5, "D3{region}{seq:05d}", "资质")
PRESALE = _L("商品房预售许可证", "商品房预售", "普通", 0, "{region}预许字〔{year}〕{seq:03d}号", "预售")
ROAD_TRANSPORT = _L("道路运输经营许可证", "道路普通货物运输", "普通", 4, "鲁交运管许可字{region}{seq:06d}号", "运许")
PUBLIC_HYGIENE = _L("公共场所卫生许可证", "住宿；美容美发", "普通", 4, "{year}卫公证字第{seq:04d}号", "卫公")
MEDICAL_PRACTICE = _L("医疗机构执业许可证", "口腔科；预防保健科", "普通", 5, "PDY{seq:05d}{region}", "医许")
HR_SERVICE = _L(
    "人力资源服务许可证", "职业中介；人才推荐；劳务派遣", "普通", 5, "（鲁）人服证字〔{year}〕第{seq:06d}号", "人服"
)
OUTDOOR_SIGN = _L("", "户外广告设施设置许可", "普通", 2, "", "广告")
DEBRIS_DISPOSAL = _L("", "城市建筑垃圾处置核准", "核准", 1, "", "渣土")

DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "market",
        "市场监督管理局",
        "市监",
        ("city", "district"),
        (PENALTY, LICENSE, ABNORMAL, SERIOUS_LIST),
        "处罚",
        (_FOOD, _FOOD_LICENCE, _ADVERTISING, _PRICES, _METROLOGY),
        (FOOD_TRADE, FOOD_PRODUCTION, DRUG_TRADE),
        "市场监督管理严重违法失信名单",
        "《市场监督管理严重违法失信名单管理办法》第十条",
    ),
    Department(
        "ecology",
        "生态环境局",
        "环",
        ("city", "district"),
        (PENALTY, LICENSE),
        "罚",
        (_AIR, _DUST, _WASTE, _EIA),
        (POLLUTANT, EIA_APPROVAL),
    ),
    Department(
        "emergency",
        "应急管理局",
        "应急",
        ("city", "district"),
        (PENALTY, LICENSE, SERIOUS_LIST),
        "罚",
        (_TRAINING, _HAZARD, _CHEMICALS),
        (SAFETY_PRODUCTION, CHEMICAL_TRADE),
        "安全生产严重失信主体名单",
        "《安全生产严重失信主体名单管理办法》第六条",
    ),
    Department(
        "tax",
        "税务局",
        "税",
        ("city", "district"),
        (PENALTY, TAX_A, SERIOUS_LIST),
        "罚",
        (_TAX_LATE, _INVOICE, _EVASION),
        (),
        "重大税收违法失信主体",
        "《重大税收违法失信主体信息公布管理办法》第六条",
    ),
    Department(
        "hrss",
        "人力资源和社会保障局",
        "人社",
        ("city", "district"),
        (PENALTY, LICENSE, SERIOUS_LIST),
        "罚",
        (_WAGES, _INSURANCE),
        (HR_SERVICE,),
        "拖欠农民工工资失信联合惩戒对象名单",
        "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》第五条",
    ),
    Department(
        "housing",
        "住房和城乡建设局",
        "住建",
        ("city", "district"),
        (PENALTY, LICENSE),
        "罚",
        (_PERMIT, _SITE_SAFETY),
        (CONSTRUCTION_PERMIT, CONSTRUCTION_GRADE, PRESALE),
    ),
    Department(
        "transport",
        "交通运输局",
        "交",
        ("city", "district"),
        (PENALTY, LICENSE),
        "罚",
        (_OVERLOAD, _UNLICENSED_TRANSPORT, _REPAIR_SHOP),
        (ROAD_TRANSPORT,),
    ),
    Department(
        "urban",
        "城市管理局",
        "城管",
        ("city", "district"),
        (PENALTY, LICENSE),
        "罚",
        (_STREET, _SIGNS, _DEBRIS),
        (OUTDOOR_SIGN, DEBRIS_DISPOSAL),
    ),
    Department(
        "health",
        "卫生健康委员会",
        "卫健",
        ("city", "district"),
        (PENALTY, LICENSE),
        "罚",
        (_HEALTH_CERT, _MEDICAL, _OCCUPATIONAL),
        (PUBLIC_HYGIENE, MEDICAL_PRACTICE),
    ),
    Department("court", "人民法院", "法", ("city", "district"), (DEBTOR,)),
    Department("development", "发展和改革委员会", "发改", ("city",), (GOVERNMENT,)),
)
DEPARTMENT_BY_KEY = {d.key: d for d in DEPARTMENTS}


@dataclass(frozen=True)
class Industry:
    word: str  # 化工
    suffixes: tuple[str, ...]  # 化工有限公司 …
    penalties: tuple[tuple[str, float], ...]  # department key → weight
    licences: tuple[tuple[str, LicenceType], ...]  # department key → licence type
    weight: float


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "化工",
        ("化工有限公司", "化工科技有限公司", "精细化工有限公司"),
        (("ecology", 4), ("emergency", 4), ("market", 1), ("tax", 1)),
        (("emergency", SAFETY_PRODUCTION), ("ecology", POLLUTANT), ("ecology", EIA_APPROVAL)),
        5,
    ),
    Industry(
        "陶瓷",
        ("陶瓷有限公司", "陶瓷科技有限公司", "建陶有限公司"),
        (("ecology", 5), ("emergency", 2), ("market", 1), ("hrss", 1)),
        (("ecology", POLLUTANT), ("ecology", EIA_APPROVAL)),
        4,
    ),
    Industry(
        "餐饮",
        ("餐饮管理有限公司", "餐饮有限公司", "餐饮服务有限公司"),
        (("market", 6), ("health", 2), ("urban", 2), ("tax", 1)),
        (("market", FOOD_TRADE), ("urban", OUTDOOR_SIGN)),
        10,
    ),
    Industry(
        "食品",
        ("食品有限公司", "食品科技有限公司"),
        (("market", 6), ("ecology", 1), ("tax", 1)),
        (("market", FOOD_PRODUCTION), ("market", FOOD_TRADE)),
        5,
    ),
    Industry(
        "商贸",
        ("商贸有限公司", "贸易有限公司", "商贸有限责任公司"),
        (("market", 5), ("tax", 3), ("urban", 1)),
        (("market", FOOD_TRADE),),
        12,
    ),
    Industry(
        "建筑",
        ("建筑工程有限公司", "建设工程有限公司", "建筑安装工程有限公司"),
        (("housing", 5), ("hrss", 3), ("urban", 1), ("emergency", 1)),
        (("housing", CONSTRUCTION_PERMIT), ("housing", CONSTRUCTION_GRADE), ("urban", DEBRIS_DISPOSAL)),
        9,
    ),
    Industry(
        "装饰",
        ("装饰工程有限公司", "装饰设计有限公司"),
        (("housing", 3), ("urban", 2), ("hrss", 1)),
        (("housing", CONSTRUCTION_GRADE),),
        4,
    ),
    Industry(
        "房地产",
        ("房地产开发有限公司", "置业有限公司"),
        (("housing", 4), ("tax", 2), ("market", 1)),
        (("housing", PRESALE), ("housing", CONSTRUCTION_PERMIT)),
        2,
    ),
    Industry(
        "物流",
        ("物流有限公司", "运输有限公司", "供应链管理有限公司"),
        (("transport", 6), ("tax", 1), ("emergency", 1)),
        (("transport", ROAD_TRANSPORT),),
        7,
    ),
    Industry(
        "汽车维修",
        ("汽车维修服务有限公司", "汽车服务有限公司"),
        (("transport", 4), ("ecology", 2), ("market", 1)),
        (("transport", ROAD_TRANSPORT),),
        3,
    ),
    Industry(
        "机械",
        ("机械制造有限公司", "机械有限公司", "机电设备有限公司"),
        (("emergency", 3), ("ecology", 2), ("hrss", 1), ("tax", 1)),
        (("ecology", POLLUTANT), ("ecology", EIA_APPROVAL)),
        7,
    ),
    Industry(
        "医药",
        ("医药有限公司", "大药房连锁有限公司", "医药科技有限公司"),
        (("market", 5), ("health", 1)),
        (("market", DRUG_TRADE),),
        3,
    ),
    Industry(
        "医疗",
        ("口腔门诊部有限公司", "医院管理有限公司", "中医诊所有限公司"),
        (("health", 6), ("market", 1)),
        (("health", MEDICAL_PRACTICE),),
        2,
    ),
    Industry(
        "酒店",
        ("酒店管理有限公司", "宾馆有限公司"),
        (("health", 3), ("market", 3), ("urban", 1)),
        (("health", PUBLIC_HYGIENE), ("market", FOOD_TRADE)),
        3,
    ),
    Industry(
        "石油",
        ("石油销售有限公司", "能源有限公司"),
        (("emergency", 4), ("market", 2), ("ecology", 1)),
        (("emergency", CHEMICAL_TRADE),),
        2,
    ),
    Industry(
        "人力资源",
        ("人力资源有限公司", "劳务派遣有限公司", "劳务有限公司"),
        (("hrss", 6), ("tax", 1)),
        (("hrss", HR_SERVICE),),
        3,
    ),
    Industry(
        "纺织",
        ("纺织有限公司", "服装有限公司"),
        (("ecology", 2), ("emergency", 2), ("hrss", 2), ("tax", 1)),
        (("ecology", POLLUTANT),),
        3,
    ),
    Industry(
        "科技",
        ("科技有限公司", "信息技术有限公司", "网络科技有限公司"),
        (("market", 3), ("tax", 3), ("hrss", 1)),
        (),
        9,
    ),
    Industry(
        "环保",
        ("环保科技有限公司", "环境工程有限公司"),
        (("ecology", 4), ("emergency", 1)),
        (("ecology", POLLUTANT),),
        2,
    ),
    Industry(
        "物业",
        ("物业管理有限公司", "物业服务有限公司"),
        (("housing", 2), ("urban", 3), ("market", 1)),
        (),
        3,
    ),
)

# 字号: two characters from here make a trade name (鑫源, 恒达, 海川 …).
TRADE_NAME_CHARS = (
    "鑫源恒达海川华泰瑞丰宏业金岭齐盛博川鲁信新齐泰和兴隆永康昌盛鼎峰天成嘉禾汇通佳美润泽聚德福瑞宝利"
    "祥和正大中信安泰广源宇航博远德昊鸿运长青丰华万通利民安康景明晨光凯旋锦程盛世同创卓越东方银河"
    "春晖信诚荣昌开元立达明辉顺达怡和众合尚品启航恒通双赢"
)

# Individual businesses (个体工商户): what the shop is.
SHOP_KINDS = (
    "便利店",
    "烧烤店",
    "面馆",
    "五金店",
    "水果店",
    "理发店",
    "家常菜馆",
    "超市",
    "汽车修理部",
    "建材经营部",
    "服装店",
    "日用品商店",
    "早餐店",
    "洗车行",
    "手机维修店",
    "烟酒店",
    "干洗店",
    "药店",
    "蛋糕店",
    "农资经营部",
)
SHOP_PENALTIES = (("market", 6), ("urban", 3), ("health", 1), ("tax", 1))
SHOP_LICENCES = (("market", FOOD_TRADE), ("urban", OUTDOOR_SIGN))
PERSON_PENALTIES = (("urban", 4), ("transport", 4), ("market", 1), ("tax", 1))

# 农民专业合作社 (USCC 93…): a few legal persons are co-operatives.
COOPERATIVE_KINDS = ("果蔬种植专业合作社", "养殖专业合作社", "农机服务专业合作社", "粮食种植专业合作社")

# Surnames with rough frequencies (the most common Chinese surnames).
SURNAMES = (
    ("王", 7.1),
    ("李", 7.0),
    ("张", 6.6),
    ("刘", 5.4),
    ("陈", 4.5),
    ("杨", 3.1),
    ("赵", 2.3),
    ("黄", 2.2),
    ("周", 2.1),
    ("吴", 2.0),
    ("徐", 1.7),
    ("孙", 1.5),
    ("胡", 1.3),
    ("朱", 1.3),
    ("高", 1.3),
    ("林", 1.2),
    ("何", 1.2),
    ("郭", 1.1),
    ("马", 1.1),
    ("罗", 0.9),
    ("梁", 0.9),
    ("宋", 0.8),
    ("郑", 0.8),
    ("谢", 0.7),
    ("韩", 0.7),
    ("唐", 0.6),
    ("冯", 0.6),
    ("于", 0.6),
    ("董", 0.5),
    ("萧", 0.4),
    ("程", 0.5),
    ("曹", 0.5),
    ("袁", 0.4),
    ("邓", 0.5),
    ("许", 0.5),
    ("傅", 0.4),
    ("沈", 0.4),
    ("曾", 0.4),
    ("彭", 0.4),
    ("吕", 0.3),
    ("苏", 0.4),
    ("卢", 0.4),
    ("蒋", 0.4),
    ("蔡", 0.4),
    ("贾", 0.3),
    ("丁", 0.3),
    ("魏", 0.3),
    ("薛", 0.3),
    ("叶", 0.3),
    ("阎", 0.2),
)
GIVEN_CHARS_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文"
GIVEN_CHARS_FEMALE = "芳娜敏静丽艳娟霞秀英华慧巧美琳燕玲桂兰红梅雪琴云莉倩婷颖洁晶"

GOODS = ("酸奶", "速冻水饺", "饼干", "食用植物油", "调味品", "熟肉制品", "饮料", "糕点", "奶粉", "方便面")
CLAIMS = ("国家级", "最佳", "第一品牌", "根治", "零风险")
PLACES = ("经营场所", "门店", "仓库", "超市货架")
MATERIALS = ("煤炭", "砂石", "渣土", "矿粉")
WASTES = ("废矿物油", "废活性炭", "含油废手套", "废油漆桶")
PROCESSES = ("窑炉", "锅炉", "喷涂车间", "烘干工序")
STANDARDS = ("山东省区域性大气污染物综合排放标准", "锅炉大气污染物排放标准", "建材工业大气污染物排放标准")
HAZARDS = ("消防通道堵塞", "配电箱未接地", "有限空间作业未审批", "安全出口锁闭")
CHEMICALS = ("甲醇", "液碱", "盐酸", "丙酮")
TAXES = ("增值税", "企业所得税", "个人所得税", "城市维护建设税")
ROADS = ("G205国道", "G308国道", "S102省道", "S231省道", "滨莱高速")
STREETS = ("人民路", "共青团路", "金晶大道", "柳泉路", "华光路", "西五路", "联通路", "中润大道")
WORKS = ("口腔诊疗", "护理", "医学检验", "中医推拿")
ROLES = ("特种作业人员", "新上岗从业人员", "危险化学品作业人员")
PROJECTS = ("厂房扩建项目", "住宅楼工程", "综合楼工程", "仓储项目", "技改项目")
AREAS = ("生产车间", "仓库", "配电室", "原料库")
PLATE_LETTERS = "ABCDEFGHJKLMN"
PROVINCE_ABBR = {"11": "京", "31": "沪", "37": "鲁", "42": "鄂", "46": "琼"}

DEBTOR_BEHAVIOURS = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
)
DEBTOR_PERFORMANCE = ("全部未履行", "全部未履行", "部分未履行")
ABNORMAL_REASONS = (
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
    "通过登记的住所或者经营场所无法联系",
    "未在责令的期限内公示有关企业信息",
    "公示企业信息隐瞒真实情况、弄虚作假",
)
ABNORMAL_EXIT = (
    "补报未报年份的年度报告并公示",
    "依法办理住所或者经营场所变更登记",
    "提出通过登记的住所可以重新取得联系",
)
GOVERNMENT_CASES = (
    ("拖欠账款", "未按合同约定支付中小企业{what}款项{value}元，逾期超过{days}日。"),
    ("司法判决未履行", "作为被执行人，未履行生效法律文书确定的{what}合同款项给付义务。"),
    ("违背承诺", "未兑现招商引资协议中关于{what}的政策承诺。"),
)
GOVERNMENT_WHAT = ("道路维修工程", "物业服务", "办公设备采购", "信息化建设", "绿化养护")

CHINESE_DIGITS = "零壹贰叁肆伍陆柒捌玖"
