"""The default 《"亲青家园"标准化建设手册》 checklist.

It is data: the plugin's first migration inserts it (a frozen copy lives in
``migrations/0001_homes_tables.py``), ``qqh demo`` adds any item whose code is
missing, and province administrators edit it on the 标准化建设清单 page
(add, change, or mark items as not in use).
"""

# (code, section, title, description)
DEFAULT_ITEMS = [
    ("A1", "venue", "统一悬挂“亲青家园”标识牌", "按全省统一样式挂牌，标识清晰醒目。"),
    ("A2", "venue", "有固定的活动场地，面积不少于100平方米", "场地相对独立，可供入驻组织日常办公和开展活动。"),
    ("A3", "venue", "配备办公桌椅、会议室等基本设施，免费向入驻组织开放", "设施清单和使用登记存档。"),
    ("A4", "venue", "提供网络、电话等通讯条件", "入驻组织可免费使用。"),
    ("B1", "services", "为入驻组织提供注册辅导服务", "协助准备登记注册材料，跟踪办理进度。"),
    ("B2", "services", "为未注册组织提供财务托管或代理记账服务", "托管协议和账目存档。"),
    ("B3", "services", "每季度至少开展1次骨干培训或交流活动", "活动通知、签到表和照片存档。"),
    ("B4", "services", "建立资源对接和项目推介机制", "组织参加公益项目洽谈会、对接会等。"),
    ("C1", "management", "制定入驻、孵化、出壳管理办法", "入驻申请、评审、协议、出壳评估流程齐全。"),
    ("C2", "management", "配备专职或兼职管理人员不少于1名", "管理人员名单及职责分工。"),
    ("C3", "management", "建立入驻组织档案和工作台账", "一组织一档案，台账按月更新。"),
    ("C4", "management", "每年对入驻组织开展评估", "评估报告存档，结果作为资助和出壳依据。"),
    ("D1", "league", "建立团组织或派驻共青团工作联络员", "纳入式、枢纽式等团建方式之一。"),
    ("D2", "league", "与青联界别或小组建立“小组基地一对一”结对", "结对协议和共建活动记录。"),
    ("E1", "publicity", "开通工作专用微博，定期发布家园动态", "每月至少发布4条动态。"),
]
