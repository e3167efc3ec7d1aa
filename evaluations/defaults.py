"""What a new program starts with (staff change it until the window opens): the five standards
for committees and general branches, the five for branches (shared/docs/domain.md), 20 points
each on a 100-point scale, and the four review stages."""

from __future__ import annotations

from decimal import Decimal

# name, description, measure it is bound to ("" for none)
UPPER_STANDARDS = [
    ("班子坚强", "领导班子健全，按期换届，团结有力", "election_on_time"),
    ("党员一流", "党员队伍素质好，作用发挥充分", ""),
    ("制度健全", "三会一课等组织生活制度落实", "activity_share"),
    ("业绩突出", "围绕中心服务大局，结对共建成效明显", "pairing_docked"),
    ("阵地规范", "党员活动阵地建设规范，用好管好", ""),
]
BRANCH_STANDARDS = [
    ("支部班子好", "支部委员会健全，按期换届", "election_on_time"),
    ("党员队伍好", "党员先锋模范作用发挥好", ""),
    ("工作机制好", "三会一课、主题党日等制度落实", "activity_share"),
    ("工作业绩好", "结对共建、服务群众成效明显", "pairing_docked"),
    ("群众反映好", "群众满意度高，问题整改到位", "no_open_problems"),
]
STANDARDS_BY_KIND = {
    "committee": UPPER_STANDARDS,
    "general_branch": UPPER_STANDARDS,
    "branch": BRANCH_STANDARDS,
}
STAGES = [
    ("field_visit", "实地考察"),
    ("collective_review", "集体评审"),
    ("peer_comparison", "互比互评"),
    ("on_site_assessment", "现场考核"),
]
POINTS = Decimal("20.00")


def seed_program(
    program, criterion_model, stage_model, kinds=("committee", "general_branch", "branch")
) -> None:
    """Give a program without criteria the standard ones, and without stages the four stages."""
    if not criterion_model.objects.filter(program=program).exists():
        criterion_model.objects.bulk_create(
            criterion_model(
                program=program,
                organization_kind=kind,
                name=name,
                description=description,
                weight=Decimal("1.00"),
                max_score=POINTS,
                measure=measure,
                sort_order=order,
            )
            for kind in kinds
            for order, (name, description, measure) in enumerate(STANDARDS_BY_KIND[kind], start=1)
        )
    if not stage_model.objects.filter(program=program).exists():
        stage_model.objects.bulk_create(
            stage_model(program=program, kind=kind, name=name, order=order)
            for order, (kind, name) in enumerate(STAGES, start=1)
        )
