"""Code lists of the national 双公示 standard (DESIGN §3.3), in one place for validation, display and the generator."""

from __future__ import annotations

# 处罚类别: code → name.
PENALTY_CATEGORIES: dict[str, str] = {
    "01": "警告",
    "02": "罚款",
    "03": "没收违法所得",
    "04": "责令停产停业",
    "05": "吊销许可证",
    "06": "行政拘留",
    "07": "其他",
    "08": "通报批评",
    "09": "没收非法财物",
    "10": "降低资质等级",
    "11": "暂扣许可证",
    "12": "限制开展生产经营活动",
    "13": "限制从业",
    "14": "责令关闭",
}

# 许可类别.
LICENSE_CATEGORIES: tuple[str, ...] = ("普通", "特许", "认可", "核准", "登记", "其他")
