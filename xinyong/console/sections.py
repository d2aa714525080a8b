"""The console's navigation: one registry, so other domains add their queues without editing console templates.

The lead plugs in e.g. ``register_section("lists", "名单管理", "/console/lists-queue")`` from the lists domain's
routes module (imported when its router is mounted); the console's menu and overview page show it at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    href: str
    description: str = ""


SECTIONS: dict[str, Section] = {}


def register_section(key: str, label: str, href: str, description: str = "") -> None:
    SECTIONS[key] = Section(key, label, href, description)


for _key, _label, _href, _description in (
    ("dashboard", "监测看板", "/console/dashboard", "双公示及时率、更新及时性、归集量、关联率、覆盖率、拒收原因"),
    ("catalog", "目录管理", "/console/catalog", "信息资源的字段、公开属性、失信程度规则、更新频率、法律依据"),
    ("lists", "三清单", "/console/lists", "数据清单、行为清单、应用清单"),
    ("units", "信息提供单位", "/console/units", "单位及其可报送的信息资源"),
    ("accounts", "账号与密钥", "/console/accounts", "账号、API 密钥的签发与吊销"),
    ("batches", "归集批次", "/console/batches", "每批数据的接收、入库、拒收情况与拒收原因"),
    ("records", "记录查询", "/console/records", "含非公开记录，每次查询须填写用途并留痕"),
    ("subjects", "主体维护", "/console/subjects", "代码映射、名称变更、主体合并与撤销"),
    ("governance", "数据治理", "/console/governance", "疑似重复、报送量异常的处理队列"),
):
    register_section(_key, _label, _href, _description)
