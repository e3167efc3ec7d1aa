"""Fill the empty msgstrs of the zh_Hans catalogue from the TRANSLATIONS table below.

A dev tool, run after `makemessages` (which keeps existing translations):

    .venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv
    .venv/bin/python locale/translate_zh.py            # fill, and list what it cannot
    .venv/bin/python manage.py compilemessages -l zh_Hans --ignore='.venv/*'
    msgfmt --check-format -o /dev/null locale/zh_Hans/LC_MESSAGES/django.po

It fills only empty msgstrs (use --force to overwrite existing ones with the table's) and
never guesses: a msgid missing from the table is listed, and stays untranslated until a line
is added here. A fuzzy entry (makemessages' guess from a similar msgid) is never used by
Django: its guess is replaced by the table's translation, or dropped and listed. The header
is set to zh_Hans with one plural form. A translation whose placeholders (%(name)s, %d, {x})
differ from its msgid's is refused and listed. --check changes nothing and exits 1 when an
entry is left untranslated or the table holds a bad line.

Keys are msgids, or (msgctxt, msgid) for entries with a context. For plural entries the key
is the singular msgid; Chinese has one form, written to msgstr[0].
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path

import polib

DEFAULT_PO = Path(__file__).resolve().parent / "zh_Hans" / "LC_MESSAGES" / "django.po"

HEADER = {
    "Language": "zh_Hans",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=1; plural=0;",
}
# Header fields still holding gettext's placeholder values, and what they become.
HEADER_DEFAULTS = {
    "Project-Id-Version": ("PACKAGE VERSION", "Jiguan Portal"),
    "Language-Team": ("LANGUAGE <LL@li.org>", "Simplified Chinese"),
}
HEADER_COMMENT = (
    "Simplified Chinese (zh_Hans) catalogue of Jiguan Portal.\n"
    "Fill new entries with locale/translate_zh.py."
)

# Term choices (see /work/shared/docs/domain.md): 党委, 党总支, 党支部, 党小组; 机关单位; 任期
# (the Term model); 换届; 正式党员/预备党员; 组织生活记录; 组织生活规定; 督导检查人员.
TRANSLATIONS: dict[str | tuple[str, str], str] = {
    # accounts
    "Role and scope": "角色与权限范围",
    "Accounts": "账号管理",
    "Committee staff": "工委工作人员",
    "Branch secretary": "支部书记",
    "Inspector": "督导检查人员",
    "role": "角色",
    "organization": "党组织",
    "For a branch secretary: the organization they run (and all under it).": (
        "适用于支部书记：其负责的党组织（含所有下级组织）。"
    ),
    "units inspected": "督导单位",
    "For an inspector: the units in scope.": "适用于督导检查人员：其负责督导的单位。",
    "whole city": "全市",
    "For an inspector: sees every unit of the city.": "适用于督导检查人员：可查看全市所有单位。",
    "user": "用户",
    "users": "用户",
    "A branch secretary must be given an organization.": "请为支部书记指定所负责的党组织。",
    # branches admin
    "organizations": "党组织数",
    "members": "党员数",
    "election status": "换届状态",
    "Overdue": "已逾期",
    "Due soon": "即将到期",
    "No term recorded": "未登记任期",
    "full members": "正式党员数",
    "next election due": "下次换届时间",
    "structure warnings": "组织设置提醒",
    "overdue": "已逾期",
    "unit": "所属单位",
    "age group": "年龄段",
    "35 or under": "35岁及以下",
    "Over 35": "35岁以上",
    "50 years in the party": "党龄满50年",
    "college degree": "学历层次",
    "College or above": "大专及以上",
    "Below college": "大专以下",
    "Nothing was imported: %(count)s rows are no longer valid. Upload the file again to see why.": (
        "未导入任何数据：有%(count)s行数据已失效。请重新上传文件查看原因。"
    ),
    "age": "年龄",
    "applies to": "适用组织",
    (
        "This rule has been in force since %(day)s. Set its last day, then add a new rule from the "
        "day the change takes effect, so earlier periods keep the rule they had."
    ): (
        "该规定已于%(day)s起生效。请先设置其截止日期，再添加一条自变更生效之日起施行的新规定，以便"
        "此前各期仍按原规定统计。"
    ),
    "filed by": "填报人",
    "month": "月份",
    "attendance": "出勤情况",
    "Organizations and members": "组织与党员",
    # filters
    "Unit id": "单位ID",
    "Parent organization id": "上级党组织ID",
    "Within organization": "组织范围",
    "Organization id: that organization and everything under it.": (
        "党组织ID：该组织及其所有下级组织。"
    ),
    "Code": "组织编码",
    "Branch id": "党支部ID",
    "Group id": "党小组ID",
    "Organization": "党组织",
    "Organization id: members of it and of everything under it.": (
        "党组织ID：该组织及其所有下级组织的党员。"
    ),
    "Youth": "青年",
    "true: members aged 35 or under; false: the others.": (
        "true：35岁及以下的党员；false：其他党员。"
    ),
    "Name or member number": "姓名或党员编号",
    # seed_demo
    "small: ~6 units and ~400 members; city: ~60 units and ~20,000 members.": (
        "small：约6个单位、400名党员；city：约60个单位、20000名党员。"
    ),
    "Random seed: the same seed on the same day gives the same data.": (
        "随机种子：同一天使用相同的种子会生成相同的数据。"
    ),
    "Do nothing when the database already holds units.": "数据库中已有单位时不做任何操作。",
    "The database already holds units: no demo data added.": "数据库中已有单位，未添加演示数据。",
    "Demo data built (scale %(scale)s, seed %(seed)d) in %(seconds).1f s.": (
        "演示数据已生成（规模 %(scale)s，种子 %(seed)d），用时 %(seconds).1f 秒。"
    ),
    "Units: %(units)d": "单位：%(units)d个",
    (
        "Organizations: %(organizations)d (committees %(committees)d, general branches "
        "%(general_branches)d, branches %(branches)d, groups %(groups)d)"
    ): (
        "党组织：%(organizations)d个（党委%(committees)d个，党总支%(general_branches)d个，党支部"
        "%(branches)d个，党小组%(groups)d个）"
    ),
    "Members: %(members)d (probationary %(probationary)d)": (
        "党员：%(members)d名（其中预备党员%(probationary)d名）"
    ),
    "Current terms overdue: %(overdue)d; due within the warning period: %(due_soon)d": (
        "本届任期已逾期：%(overdue)d个；提醒期内到期：%(due_soon)d个"
    ),
    "Demo accounts:": "演示账号：",
    "(account already existed: password unchanged)": "（账号已存在，密码未更改）",
    "username: %s": "用户名：%s",
    "password: %s": "密码：%s",
    "scope: %s": "权限范围：%s",
    "sign in at: %s": "登录地址：%s",
    # models: unit / organization
    "name": "名称",
    "short name": "简称",
    "sort order": "排序",
    "organ unit": "机关单位",
    "organ units": "机关单位",
    "Party committee": "党委",
    "General party branch": "党总支",
    "Party branch": "党支部",
    "Party group": "党小组",
    "Government organ": "党政机关",
    "Public institution": "事业单位",
    "State-owned enterprise": "国有企业",
    "organization code": "组织编码",
    "Unique code used in rosters and imports.": "唯一编码，用于党员名册及数据导入。",
    "kind": "组织类别",
    "host type": "单位性质",
    "other units (joint committee)": "其他单位（联合党委）",
    "For a joint committee: the other units it spans.": "适用于联合党委：其涵盖的其他单位。",
    "parent organization": "上级党组织",
    "tree path": "层级路径",
    "depth": "层级",
    "founded on": "成立时间",
    "secretary": "书记",
    "party organization": "党组织",
    "party organizations": "党组织",
    "A %(kind)s must sit under: %(allowed)s.": "%(kind)s的上级组织应为：%(allowed)s。",
    "An organization cannot sit under itself.": "党组织不能设在其自身或其下级组织之下。",
    "The secretary must be a member of this branch.": "书记必须是本支部的党员。",
    # terms
    "started on": "任期开始日期",
    "length (years)": "任期年限（年）",
    "Leave blank to use the default for the organization's kind.": (
        "留空则使用该类别组织的默认任期年限。"
    ),
    "approved change (months)": "经批准提前或延期（月）",
    (
        "An election moved earlier (negative) or later (positive) with the approval of the level "
        "above; at most 12 months."
    ): "经上级党组织批准提前（填负数）或延期（填正数）换届的月数，最多12个月。",
    "approval document": "批准文件",
    "ended on": "任期结束日期",
    "term": "任期",
    "terms": "任期",
    "A moved election needs the approval of the level above.": (
        "提前或延期换届须经上级党组织批准，请填写批准文件。"
    ),
    # members
    "Male": "男",
    "Female": "女",
    "Full member": "正式党员",
    "Probationary member": "预备党员",
    "Postgraduate": "研究生",
    "Bachelor's degree": "大学本科",
    "Junior college": "大学专科",
    "Secondary school": "高中或中专",
    "Junior middle school or below": "初中及以下",
    "None": "无",
    "Secretary": "书记",
    "Deputy secretary": "副书记",
    "Committee member": "委员",
    "Group leader": "党小组组长",
    "member number": "党员编号",
    "sex": "性别",
    "birth date": "出生日期",
    "joined the party on": "入党时间",
    "status": "党员类别",
    "full member since": "转正时间",
    "education": "学历",
    "position": "职务",
    "party branch": "所在党支部",
    "party group": "所在党小组",
    "party duty": "党内职务",
    "party affairs cadre": "党务干部",
    "registered at community": "报到社区",
    "In-service member registered at their residential community.": (
        "在职党员到居住地社区报到的社区名称。"
    ),
    "first secretary posting": "第一书记派驻村",
    "Village where the member serves as first secretary.": "该党员担任第一书记的村。",
    "hardship member": "困难党员",
    "phone": "联系电话",
    "created at": "创建时间",
    "updated at": "更新时间",
    "party member": "党员",
    "party members": "党员",
    "A member must belong to a party branch.": "党员必须编入一个党支部。",
    "This is not a party group.": "所选组织不是党小组。",
    "The party group must be inside the member's branch.": "党小组必须属于该党员所在的党支部。",
    "The joining date must come after the birth date.": "入党时间必须晚于出生日期。",
    "The joining date cannot be in the future.": "入党时间不能晚于今天。",
    "A member becomes full only after joining.": "转正时间不能早于入党时间。",
    # organizational life
    "Month": "月",
    "Quarter": "季度",
    "Year": "年",
    "Choose at least one kind of organization.": "请至少选择一种组织类别。",
    "Unknown organization kinds: %(kinds)s": "无法识别的组织类别：%(kinds)s",
    "code": "代码",
    "Kinds of organization that hold and file this activity.": "召开并填报此项活动的组织类别。",
    "committee meeting": "支部委员会会议",
    (
        "Attended by the branch committee only; counts when more than half of the committee is "
        "present, and is owed only by branches that have elected a committee."
    ): "仅由支部委员参加；到会委员超过半数方可计入，且只对已选举产生支部委员会的党支部作要求。",
    "activity type": "活动类型",
    "activity types": "活动类型",
    "period": "周期",
    "minimum count": "最少次数",
    "in force from": "生效日期",
    "in force until": "截止日期",
    "basis": "依据",
    "compliance rule": "组织生活规定",
    "compliance rules": "组织生活规定",
    "%(type)s: at least %(n)d per %(period)s": "%(type)s：每%(period)s至少%(n)d次",
    "The end must not come before the start.": "截止日期不能早于生效日期。",
    (
        "Another rule for this activity and period is in force at the same time. End it first (set "
        "its last day), then add the new rule."
    ): "该活动类型在同一周期已有一条规定在此期间生效。请先为原规定设置截止日期，再添加新规定。",
    "type name": "活动类型名称",
    "date": "日期",
    "topic": "主题",
    "place": "地点",
    "content": "内容",
    "counts for compliance": "计入达标统计",
    "False when a committee meeting lacked a quorum.": "支部委员会会议到会委员未超过半数时不计入。",
    "filed at": "填报时间",
    "present": "出席人数",
    "excused": "请假人数",
    "absent": "缺席人数",
    "activity record": "组织生活记录",
    "activity records": "组织生活记录",
    "This organization already filed this activity on that day.": "该组织当天已填报过此项活动。",
    "Present": "出席",
    "Excused": "请假",
    "Absent": "缺席",
    "member": "党员",
    "file": "文件",
    "file name": "文件名",
    "content type": "文件类型",
    "size (bytes)": "大小（字节）",
    "uploaded at": "上传时间",
    "attachment": "附件",
    "attachments": "附件",
    # periods
    "Not a period: %(text)s (use 2026-03, 2026-Q1 or 2026).": (
        "无法识别的期间：%(text)s（请按 2026-03、2026-Q1 或 2026 的格式填写）。"
    ),
    "%(month)d/%(year)d": "%(year)d年%(month)d月",
    "Q%(quarter)d %(year)d": "%(year)d年第%(quarter)d季度",
    "Year %(year)d": "%(year)d年",
    # roster (resources)
    "“%(value)s” is not a valid choice. Use one of: %(choices)s.": (
        "“%(value)s”不是有效选项，请填写以下之一：%(choices)s。"
    ),
    "Yes": "是",
    "No": "否",
    "“%(value)s” is not a yes/no value. Use %(yes)s or %(no)s.": (
        "“%(value)s”不是有效的是/否值，请填写“%(yes)s”或“%(no)s”。"
    ),
    "The party organization “%(code)s” is outside your scope.": (
        "党组织“%(code)s”不在您的权限范围内。"
    ),
    "There is no party organization with the code “%(code)s”.": "不存在编码为“%(code)s”的党组织。",
    "Member number": "党员编号",
    "Name": "姓名",
    "Sex": "性别",
    "Birth date": "出生日期",
    "Joined the party on": "入党时间",
    "Status": "党员类别",
    "Full member since": "转正时间",
    "Education": "学历",
    "Position": "职务",
    "Branch code": "党支部编码",
    "Branch": "所在党支部",
    "Group code": "党小组编码",
    "Party duty": "党内职务",
    "Party affairs cadre": "党务干部",
    "Registered at community": "报到社区",
    "First secretary posting": "第一书记派驻村",
    "Hardship member": "困难党员",
    "Phone": "联系电话",
    "Party member roster": "党员名册",
    "Unknown column “%(column)s”.": "无法识别的列“%(column)s”。",
    "The column “%(column)s” appears twice.": "列“%(column)s”重复出现。",
    "The column “%(column)s” is missing.": "缺少列“%(column)s”。",
    "Member number “%(value)s” appears more than once in the file (first on row %(row)s).": (
        "党员编号“%(value)s”在文件中重复出现（首次出现在第%(row)s行）。"
    ),
    # structure rules
    "Fewer than %(n)d full members (has %(count)d): a branch needs at least %(n)d.": (
        "正式党员不足%(n)d名（现有%(count)d名）：党支部应至少有%(n)d名正式党员。"
    ),
    "More than %(n)d members (has %(count)d): consider splitting the branch.": (
        "党员超过%(n)d名（现有%(count)d名）：建议分设党支部。"
    ),
    (
        "With %(count)d full members the branch should elect a committee of %(min)d to %(max)d "
        "(has %(size)d)."
    ): "正式党员%(count)d名，应选举产生%(min)d至%(max)d人组成的支部委员会（现有%(size)d人）。",
    "No secretary recorded.": "未登记书记。",
    # services
    "You may not import the roster.": "您没有导入党员名册的权限。",
    "The file could not be read as %(format)s (%(error)s).": (
        "无法按%(format)s格式读取该文件（%(error)s）。"
    ),
    "%(name)s is larger than %(max)d MB.": "%(name)s超过%(max)d MB，请压缩后重新上传。",
    "%(name)s is not a photo (JPEG, PNG, WebP, HEIC) or a PDF.": (
        "%(name)s不是照片（JPEG、PNG、WebP、HEIC）或PDF文件。"
    ),
    "Choose the type of activity.": "请选择活动类型。",
    "A %(kind)s does not hold a %(type)s.": "%(kind)s不召开%(type)s。",
    "Enter the date.": "请填写日期。",
    # The tests look for 未来 in this message.
    "The date cannot be in the future.": "日期不能晚于今天，请勿填写未来日期。",
    "Enter the topic.": "请填写主题。",
    "%(org)s already filed a %(type)s on %(date)s.": "%(org)s已填报过%(date)s的%(type)s。",
    "Only committee members attend a committee meeting: %(names)s.": (
        "支部委员会会议仅由支部委员参加，以下人员不是委员：%(names)s。"
    ),
    "Not members of %(org)s: %(names)s.": "以下人员不是%(org)s的党员：%(names)s。",
    "A member cannot be both excused and absent.": "同一名党员不能既请假又缺席。",
    "You cannot file records for this organization.": "您无权为该组织填报记录。",
    "You cannot change records of this organization.": "您无权修改该组织的记录。",
    "Records filed more than %(days)d days ago can only be changed by committee staff.": (
        "填报已超过%(days)d天的记录只能由工委工作人员修改。"
    ),
    "You cannot delete this record.": "您无权删除此记录。",
    # apps, admin site
    "Campaigns": "专项活动",
    "Organ Party Work Committee · Administration": "机关工委 · 管理后台",
    "Jiguan Portal": "机关党建工作平台",
    "Committee work": "工委工作",
    "Evaluations": "创建评选",
    "Pairings": "结对共建",
    "Reports": "通报与台账",
    # templates
    "Members": "党员",
    "All in my scope": "我权限范围内的全部组织",
    "Any": "不限",
    "Youth only": "仅青年党员",
    "Not youth": "非青年党员",
    "Search": "查询",
    "%(counter)s member found": "共找到%(counter)s名党员",
    ("person", "Name"): "姓名",
    ("export job", "status"): "状态",
    ("export job", "Status"): "状态",
    "Age": "年龄",
    "Pages": "分页",
    "Previous": "上一页",
    "Page %(number)s of %(total)s": "第%(number)s页，共%(total)s页",
    "Next": "下一页",
    "Kind": "组织类别",
    "Unit": "所属单位",
    "Host type": "单位性质",
    "Founded": "成立时间",
    "%(total)s (%(full)s full, %(probationary)s probationary)": (
        "%(total)s名（正式党员%(full)s名，预备党员%(probationary)s名）"
    ),
    "Current term": "本届任期",
    "since %(started)s": "自%(started)s起",
    "Next election due": "下次换届时间",
    "Structure warnings": "组织设置提醒",
    "Sub-organizations": "下级组织",
    (
        "%(total)s in all: %(full)s full, %(probationary)s probationary; %(youth)s youth, "
        "%(women)s women, %(college)s with a college degree or above."
    ): (
        "共%(total)s名：正式党员%(full)s名，预备党员%(probationary)s名；青年党员%(youth)s名，女党员"
        "%(women)s名，大专及以上学历%(college)s名。"
    ),
    "Aged 35 or under": "35岁及以下",
    "No members recorded.": "暂无党员信息。",
    "Search the members of this organization": "查询本组织党员",
    "Party Building Portal": "党建工作平台",
    "Organ Party Work Committee": "机关工委",
    "Log out": "退出登录",
    "Main": "主导航",
    "My organization": "我的组织",
    "Overview": "总览",
    "Units in your scope": "您权限范围内的单位",
    "%(counter)s organization": "%(counter)s个党组织",
    "%(counter)s member": "%(counter)s名党员",
    (
        "Nothing is in your scope yet. Ask the committee staff to assign you units or an "
        "organization."
    ): "您的权限范围内暂无内容，请联系工委工作人员为您分配单位或党组织。",
    "Log in": "登录",
    "Username": "用户名",
    "Password": "密码",
    # organizational life: admin, API, filters, forms
    "held by": "开展组织类别",
    "full name": "姓名",
    "Unknown activity type: {value}.": "未知的活动类型：{value}。",
    "No such members: %(ids)s.": "以下党员不存在：%(ids)s。",
    "Organization id: records of it and of everything under it.": (
        "党组织ID：该组织及其所有下级组织的记录。"
    ),
    "Unit id: records of its organizations (joint committees included).": (
        "单位ID：该单位各党组织的记录（含联合党委）。"
    ),
    "Activity type": "活动类型",
    "Activity type id or code (e.g. theme_day).": "活动类型ID或代码（如 theme_day）。",
    "Date": "日期",
    "date_after / date_before: first and last day, inclusive.": (
        "date_after / date_before：起止日期（含当日）。"
    ),
    "e.g. 2026-03": "如 2026-03",
    "Counts for compliance": "计入达标统计",
    "Period": "统计期间",
    "2026-03 (month), 2026-Q1 (quarter) or 2026 (year).": (
        "2026-03（月）、2026-Q1（季度）或 2026（年）。"
    ),
    "Organization id: it and everything under it.": "党组织ID：该组织及其所有下级组织。",
    "Unit id: its organizations (a joint committee under each of its units).": (
        "单位ID：该单位的党组织（联合党委计入其涵盖的每个单位）。"
    ),
    "Type of activity": "活动类型",
    "Topic": "主题",
    "Place": "地点",
    "Content": "内容",
    "Choose…": "请选择…",
    "Inspectors may read but not change anything.": "督导检查人员只能查看，不能修改任何内容。",
    # organizational life: ledgers
    "The members of each party organization, with their party details.": (
        "各党组织的党员名单及党员基本信息。"
    ),
    "Organizational life ledger": "组织生活台账",
    "Every meeting, lecture and theme day filed, with who was present, excused or absent.": (
        "已填报的各类会议、党课和主题党日，及出席、请假、缺席人员。"
    ),
    "Expected": "应到人数",
    "Attendance rate": "出勤率",
    "Excused members": "请假人员",
    "Absent members": "缺席人员",
    "Attachments": "附件",
    "Filed by": "填报人",
    "Filed at": "填报时间",
    "Organizational life compliance ledger": "组织生活达标情况台账",
    "For a month, a quarter or a year: what each organization owed and held, and what it missed.": (
        "按月、季度或年度统计各党组织应开展、已开展和未开展的组织生活。"
    ),
    "Activities owed": "应开展次数",
    "Activities held": "已开展次数",
    "Missing": "未开展次数",
    "What was missed": "未开展事项",
    "Compliant": "达标",
    "Election overdue": "换届逾期",
    "Overdue term elections ledger": "换届逾期台账",
    (
        "Party organizations whose current term has run past its due date, approved changes "
        "included."
    ): "本届任期已超过应换届时间的党组织（已计入经批准的提前或延期换届）。",
    "Term started on": "任期开始日期",
    "Term length (years)": "任期年限（年）",
    "Approved change (months)": "经批准提前或延期（月）",
    "Election due on": "应换届日期",
    "Days overdue": "逾期天数",
    # seed_demo: activity records
    "Activity records and attendance for the last N full months and this month so far (0: none).": (
        "生成最近N个完整月及本月至今的组织生活记录和出勤情况（0：不生成）。"
    ),
    (
        "Delete all units, organizations, terms, members and activity records (and the demo "
        "accounts) first."
    ): "先删除所有单位、党组织、任期、党员和组织生活记录（以及演示账号）。",
    "--activity-months cannot be negative.": "--activity-months 不能为负数。",
    (
        "The database already holds units. Run with --flush to replace them with demo data (this "
        "deletes all units, organizations, terms, members and activity records), or with "
        "--if-empty to leave them."
    ): (
        "数据库中已有单位。如需替换为演示数据，请加 --flush 参数运行（将删除所有单位、党组织、"
        "任期、党员和组织生活记录）；如需保留现有数据，请加 --if-empty 参数运行。"
    ),
    (
        "Deleted: %(units)d units, %(organizations)d organizations, %(members)d members, "
        "%(activity_records)d activity records."
    ): (
        "已删除：%(units)d个单位，%(organizations)d个党组织，%(members)d名党员，"
        "%(activity_records)d条组织生活记录。"
    ),
    (
        "Activity records: %(activity_records)d over %(activity_months)d months and this month so "
        "far (attendance rows: %(attendance)d)"
    ): (
        "组织生活记录：%(activity_records)d条，覆盖最近%(activity_months)d个月及本月至今（出勤记录"
        "%(attendance)d条）"
    ),
    (
        "Compliance %(first)s to %(last)s: %(held)d of %(owed)d owed activities held "
        "(%(rate).1f%%); %(behind)d of %(branches)d branches below %(threshold)d%% (checked in "
        "%(seconds).1f s)."
    ): (
        "达标情况（%(first)s至%(last)s）：应开展%(owed)d次，已开展%(held)d次（%(rate).1f%%）；"
        "%(branches)d个党支部中有%(behind)d个低于%(threshold)d%%（统计用时%(seconds).1f秒）。"
    ),
    # organizational life: portal views and pages
    "Filed: %(type)s on %(date)s, %(present)d of %(expected)d present.": (
        "已填报%(date)s的%(type)s，应到%(expected)d人，实到%(present)d人。"
    ),
    "The record was updated.": "记录已更新。",
    "The record was deleted.": "记录已删除。",
    "The file is missing.": "文件不存在。",
    "Delete record": "删除记录",
    "Delete this record?": "确定删除此记录吗？",
    "Its attendance, photos and minutes are deleted with it. This cannot be undone.": (
        "该记录的出勤情况、照片和会议记录将一并删除，且无法恢复。"
    ),
    "Delete": "删除",
    "Cancel": "取消",
    "Activity records": "组织生活记录",
    "Type": "活动类型",
    "Fewer than half of the committee were present.": "到会委员未超过半数。",
    "No quorum: does not count": "到会委员未过半数，不计入达标统计",
    "Attendance": "出勤情况",
    "%(present)s of %(expected)s present": "应到%(expected)s人，实到%(present)s人",
    "Photos and minutes": "照片和会议记录",
    "No photos or minutes attached.": "未上传照片或会议记录。",
    "Edit": "编辑",
    "Edit record": "编辑记录",
    "File a record": "填报记录",
    "Nothing was saved. Please correct the fields marked below.": (
        "未保存任何内容，请修改下方标出的项目。"
    ),
    "No activity type is filed by a %(kind)s.": "%(kind)s没有需要填报的活动类型。",
    "Show the attendance list for this type": "显示该活动类型的参会人员名单",
    "e.g. Studying the party constitution": "如：学习党章",
    "(optional)": "（选填）",
    "Everyone is present unless you mark them excused or absent.": (
        "未标记为请假或缺席的党员均视为出席。"
    ),
    "No members recorded for this organization.": "本组织暂无党员信息。",
    "Remove %(name)s": "删除%(name)s",
    "Take photos with the camera": "拍照上传",
    "Or choose photos or PDF files": "或选择照片、PDF文件",
    "JPEG, PNG, WebP, HEIC or PDF.": "支持JPEG、PNG、WebP、HEIC或PDF格式。",
    "Files are not kept when the form comes back with errors: choose them again.": (
        "表单有误时不会保留已选文件，请重新选择。"
    ),
    "Save changes": "保存修改",
    "File the record": "提交记录",
    "Apply filters": "筛选",
    "%(counter)s record": "共%(counter)s条记录",
    "No quorum": "未过半数",
    "No records yet.": "暂无记录。",
    "Organizational life: still to hold": "组织生活：尚需开展",
    "This month": "本月",
    "This quarter": "本季度",
    "This year": "本年度",
    "All done": "已全部完成",
    "File for %(group)s": "为%(group)s填报",
    "Facts": "基本信息",
    "Not allowed": "无权访问",
    "Back to the portal": "返回平台首页",
    # reports: bulletins
    "YYYY-MM, e.g. 2026-10": "格式为YYYY-MM，如2026-10",
    "A bulletin covers one month: use YYYY-MM.": "通报按月生成，请按YYYY-MM格式填写。",
    "compliance rate": "达标率",
    "Rebuild the selected bulletins": "重新生成所选通报",
    "%(n)d bulletins rebuilt.": "已重新生成%(n)d份通报。",
    "Bulletin %(month)s built.": "%(month)s月通报已生成。",
    "Build a monthly bulletin": "生成月通报",
    (
        "Bulletin %(month)s: %(orgs)d organizations, %(ok)d compliant, %(overdue)d overdue "
        "elections."
    ): "%(month)s月通报：共%(orgs)d个党组织，达标%(ok)d个，换届逾期%(overdue)d个。",
    "First day of the month.": "当月第一天。",
    "built at": "生成时间",
    "built by": "生成人",
    "compliant organizations": "达标党组织数",
    "activities owed": "应开展次数",
    "activities held": "已开展次数",
    "overdue elections": "换届逾期数",
    "monthly bulletin": "月通报",
    "monthly bulletins": "月通报",
    "Bulletin %(month)s": "%(month)s月通报",
    "bulletin": "通报",
    "rank": "排名",
    "bulletin unit line": "通报单位明细",
    "bulletin unit lines": "通报单位明细",
    "owed": "应开展次数",
    "held": "已开展次数",
    "missing": "未开展次数",
    "what was missed": "未开展事项",
    "election overdue": "换届逾期",
    "bulletin line": "通报组织明细",
    "bulletin lines": "通报组织明细",
    "Home": "首页",
    (
        "Builds the bulletin of a month from the records and rules as they stand now. A month "
        "already built is replaced."
    ): "按当前的组织生活记录和规定生成指定月份的通报；该月已有通报的，将予以替换。",
    "Build": "生成",
    "Monthly bulletins": "月通报",
    "Bulletin %(code)s": "%(code)s月通报",
    "All months": "全部月份",
    "Organizational life bulletin, %(code)s": "组织生活月通报（%(code)s）",
    "Built %(when)s; shown as published.": "生成于%(when)s，按发布时内容显示。",
    "Download with filters": "按条件筛选下载",
    "City totals": "全市合计",
    "Organizations owing": "应开展党组织数",
    "Compliance rate": "达标率",
    "Activities held / owed": "已开展/应开展次数",
    "Completion rate": "完成率",
    "Overdue elections": "换届逾期",
    "In your scope: %(compliant)s of %(counter)s organization compliant (%(rate)s).": (
        "您权限范围内：%(counter)s个党组织中%(compliant)s个达标（%(rate)s）。"
    ),
    "Compliance by unit, ranked": "各单位达标情况排名",
    "Held / owed": "已开展/应开展",
    "Your organization": "本组织",
    "Missed": "未达标",
    "Your organization owed nothing this month.": "本组织本月无应开展的组织生活。",
    "Organizations that missed something": "未按要求开展组织生活的党组织",
    "Every organization in your scope held what it owed.": (
        "您权限范围内的党组织均已按要求开展组织生活。"
    ),
    "due %(due)s": "应于%(due)s换届",
    "No election is overdue in your scope.": "您权限范围内暂无换届逾期的党组织。",
    "Monthly organizational life bulletins": "组织生活月通报",
    "Built on the 1st of each month for the month before, and kept as published.": (
        "每月1日生成上月通报，并按发布时内容留存。"
    ),
    "Organizations": "党组织数",
    "No bulletin has been built yet.": "暂未生成通报。",
    # reports: ledgers and exports
    "Unknown ledger: %(code)s": "未知台账：%(code)s",
    "This ledger has no such filter.": "此台账不支持该筛选条件。",
    "All in your scope": "您权限范围内的全部",
    "Unit: %(name)s": "单位：%(name)s",
    "Organization: %(name)s": "党组织：%(name)s",
    "Period: %(label)s": "统计期间：%(label)s",
    "A month (2026-03), a quarter (2026-Q1) or a year (2026).": (
        "月（如 2026-03）、季度（如 2026-Q1）或年（如 2026）。"
    ),
    "This ledger does not take that kind of period.": "此台账不支持该类统计期间。",
    "All organizations in your scope": "您权限范围内的全部党组织",
    "Built %(when)s by %(user)s": "%(user)s于%(when)s生成",
    "Monthly organizational life bulletin": "组织生活月通报",
    "Which organizations did not hold what they owed in a month, as published.": (
        "按发布时内容，列出当月未按要求开展组织生活的党组织。"
    ),
    "Organization code": "组织编码",
    "Waiting": "排队中",
    "Building": "生成中",
    "Ready": "已完成",
    "Failed": "失败",
    "owner": "申请人",
    "ledger": "台账",
    "filters": "筛选条件",
    "rows": "行",
    "rows written": "已写入行数",
    "error": "错误信息",
    "started at": "开始时间",
    "finished at": "完成时间",
    "ledger export": "台账导出",
    "ledger exports": "台账导出",
    "Only a failed export can be retried.": "只有生成失败的导出才能重试。",
    "%(title)s has %(rows)d rows: it is being built in the background.": (
        "%(title)s共%(rows)d行，正在后台生成。"
    ),
    "Choose one of the ledgers below.": "请从下列台账中选择一项。",
    "The ledger is being built again.": "正在重新生成台账。",
    "Downloads": "台账下载",
    "Download .xlsx": "下载 .xlsx",
    "Ledgers to download": "可下载台账",
    (
        "Every ledger holds only what is in your scope. Up to %(threshold)s rows it downloads at "
        "once; a larger one is built in the background and waits for you under “My exports”."
    ): (
        "台账仅包含您权限范围内的数据。不超过%(threshold)s行的台账立即下载；超过的在后台生成，完成"
        "后可在“我的导出”中下载。"
    ),
    "This ledger takes no filters.": "此台账无筛选条件。",
    "Choose": "选择",
    "No ledgers are available yet.": "暂无可下载的台账。",
    "My exports": "我的导出",
    "Ledger": "台账",
    "Requested": "提交时间",
    "Rows": "行数",
    "Files are kept for %(counter)s day.": "文件保留%(counter)s天。",
    "Nothing built in the background yet.": "暂无后台生成的台账。",
    "Export": "导出",
    "Requested %(when)s": "提交于%(when)s",
    "Progress": "进度",
    "You may leave this page: the file waits for you under “My exports”.": (
        "您可以离开此页面，文件生成后可在“我的导出”中下载。"
    ),
    "%(counter)s row, built %(finished)s.": "共%(counter)s行，生成于%(finished)s。",
    "The ledger could not be built.": "台账生成失败。",
    "Unknown error.": "未知错误。",
    "Retry": "重试",
    "Change the filters": "修改筛选条件",
}

# %(name)s, %(seconds).1f, %s, %d ... (python-format) and {name} (python-brace-format).
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{[^{}]*\}")


def placeholders(text: str, flags: list[str]) -> list[str]:
    found = []
    if "python-format" in flags:
        found += [p for p in PERCENT.findall(text) if p != "%%"]
    if "python-brace-format" in flags:
        found += BRACE.findall(text)
    named = [p for p in found if p.startswith(("%(", "{")) and p != "{}"]
    # Named ones may move around in Chinese; positional ones must keep their order.
    return sorted(named) + [p for p in found if p not in named]


def key_of(entry: polib.POEntry) -> str | tuple[str, str]:
    return (entry.msgctxt, entry.msgid) if entry.msgctxt else entry.msgid


def label(key: str | tuple[str, str]) -> str:
    return f"[{key[0]}] {key[1]!r}" if isinstance(key, tuple) else repr(key)


def is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def set_translation(entry: polib.POEntry, text: str) -> None:
    if entry.msgid_plural:
        entry.msgstr_plural = {0: text}
    else:
        entry.msgstr = text


def clear(entry: polib.POEntry) -> None:
    if entry.msgid_plural:
        entry.msgstr_plural = {0: ""}
    else:
        entry.msgstr = ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("po", nargs="?", type=Path, default=DEFAULT_PO)
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing msgstrs with the table's"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if anything is missing"
    )
    args = parser.parse_args(argv)

    po = polib.pofile(str(args.po), wrapwidth=79)
    changed = False
    if po.metadata_is_fuzzy:
        po.metadata_is_fuzzy = False
        changed = True
    for name, value in HEADER.items():
        if po.metadata.get(name) != value:
            po.metadata[name] = value
            changed = True
    for name, (default, value) in HEADER_DEFAULTS.items():
        if po.metadata.get(name, default) == default:
            po.metadata[name] = value
            changed = True
    if po.header.startswith("SOME DESCRIPTIVE TITLE"):
        po.header = HEADER_COMMENT
        changed = True

    filled, kept, missing, refused, used = 0, 0, [], [], set()
    for entry in po:
        if entry.obsolete:
            continue
        key = key_of(entry)
        text = TRANSLATIONS.get(key)
        if text is not None:
            used.add(key)
            expected = placeholders(entry.msgid, entry.flags)
            if entry.msgid_plural:
                other = placeholders(entry.msgid_plural, entry.flags)
                if sorted(other) != sorted(expected):
                    expected = other  # "%d item" / "%d items": Chinese follows the plural
            if placeholders(text, entry.flags) != expected:
                refused.append(key)
                text = None
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
            entry.previous_msgid = entry.previous_msgid_plural = entry.previous_msgctxt = None
            clear(entry)  # the guess of a similar msgid: never trusted
            changed = True
        if entry.msgid_plural and set(entry.msgstr_plural) - {0}:
            entry.msgstr_plural = {0: entry.msgstr_plural.get(0, "")}
            changed = True
        if is_translated(entry) and not args.force:
            kept += 1
        elif text is not None:
            if not is_translated(entry) or entry.msgstr != text:
                set_translation(entry, text)
                filled += 1
                changed = True
            else:
                kept += 1
        if not is_translated(entry):
            missing.append(key)

    unused = [k for k in TRANSLATIONS if k not in used]
    print(f"{args.po}: {len([e for e in po if not e.obsolete])} entries")
    verb = "would fill" if args.check else "filled now"
    print(f"  {verb}: {filled}; already translated: {kept}; untranslated: {len(missing)}")
    for key in refused:
        print(f"  REFUSED (placeholders differ from the msgid): {label(key)}")
    for key in missing:
        print(f"  NO TRANSLATION: {label(key)}")
    if unused:
        print(f"  {len(unused)} table entries match no msgid (obsolete? kept for now):")
        for key in unused:
            print(f"    {label(key)}")

    if args.check:
        return 1 if missing or refused else 0
    if changed:
        po.metadata["PO-Revision-Date"] = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M%z")
        po.save()
        print("  saved; now run compilemessages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
