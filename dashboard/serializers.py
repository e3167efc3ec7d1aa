"""The shapes of the dashboard's answers, for the OpenAPI schema (`docs/dashboard.md`).

The answers are built as dicts by `dashboard.selectors`; these serializers only describe
them. No ChoiceField: drf-spectacular would name an enum after each field ("KindEnum") and the
names clash across apps (`reports.ledgers.ChoicesFilter`).
"""

from __future__ import annotations

from rest_framework import serializers as s

RATE = {"allow_null": True, "help_text": "0..1, four decimal places; null when nothing is owed."}


class DashboardScopeSerializer(s.Serializer):
    kind = s.CharField(help_text="city, units or organization")
    label = s.CharField()


class DashboardPanelSerializer(s.Serializer):
    scope = DashboardScopeSerializer()
    as_of = s.DateField()


class DashboardLinked(s.Serializer):
    url = s.CharField(help_text="The portal page that lists what the figure counts.")


class DashboardComplianceMonthSerializer(DashboardLinked):
    month = s.CharField(help_text="YYYY-MM")
    organizations = s.IntegerField()
    compliant = s.IntegerField()
    rate = s.FloatField(**RATE)


class DashboardUnitRankSerializer(DashboardLinked):
    unit_id = s.IntegerField()
    unit = s.CharField()
    organizations = s.IntegerField()
    compliant = s.IntegerField()
    rate = s.FloatField()
    owed = s.IntegerField()
    held = s.IntegerField()


class DashboardCompliancePanelSerializer(DashboardPanelSerializer):
    months = DashboardComplianceMonthSerializer(many=True)
    ranking = DashboardUnitRankSerializer(many=True)


class DashboardOwedTypeSerializer(s.Serializer):
    type = s.CharField()
    organizations = s.IntegerField()
    missing = s.IntegerField()


class DashboardOwingOrganizationSerializer(DashboardLinked):
    id = s.IntegerField()
    name = s.CharField()
    missing = s.IntegerField()
    detail = s.CharField()


class DashboardOwedPanelSerializer(DashboardPanelSerializer, DashboardLinked):
    month = s.CharField(help_text="YYYY-MM")
    organizations_owing = s.IntegerField()
    by_type = DashboardOwedTypeSerializer(many=True)
    organizations = DashboardOwingOrganizationSerializer(many=True)


class DashboardElectionUnitSerializer(DashboardLinked):
    unit_id = s.IntegerField()
    unit = s.CharField()
    overdue = s.IntegerField()
    due_soon = s.IntegerField()


class DashboardElectionsPanelSerializer(DashboardPanelSerializer, DashboardLinked):
    overdue = s.IntegerField()
    due_soon = s.IntegerField()
    by_unit = DashboardElectionUnitSerializer(many=True)


class DashboardLabelCountSerializer(DashboardLinked):
    label = s.CharField()
    count = s.IntegerField()


class DashboardEducationCountSerializer(DashboardLabelCountSerializer):
    value = s.CharField()


class DashboardCountSerializer(DashboardLinked):
    count = s.IntegerField()


class DashboardYouthSerializer(DashboardCountSerializer):
    share = s.FloatField(**RATE)


class DashboardMembersPanelSerializer(DashboardPanelSerializer, DashboardLinked):
    total = s.IntegerField()
    age_bands = DashboardLabelCountSerializer(many=True)
    youth = DashboardYouthSerializer()
    education = DashboardEducationCountSerializer(many=True)
    fifty_years = DashboardCountSerializer()
    probationary = DashboardCountSerializer()


class DashboardSchemeDockingSerializer(DashboardLinked):
    scheme_id = s.IntegerField()
    scheme = s.CharField()
    enrolled = s.IntegerField()
    pairings = s.IntegerField()
    docked = s.IntegerField()
    rate = s.FloatField(**RATE)


class DashboardHelpQuarterSerializer(DashboardLinked):
    quarter = s.CharField(help_text="YYYYQn")
    money = s.DecimalField(max_digits=16, decimal_places=2, help_text="Funds, yuan.")
    goods = s.DecimalField(max_digits=16, decimal_places=2, help_text="Goods value, yuan.")
    visits = s.IntegerField()


class DashboardPairingsPanelSerializer(DashboardPanelSerializer):
    schemes = DashboardSchemeDockingSerializer(many=True)
    help_by_quarter = DashboardHelpQuarterSerializer(many=True)


class DashboardTitleKindSerializer(DashboardLinked):
    kind = s.CharField()
    label = s.CharField()
    count = s.IntegerField()


class DashboardEvaluationsPanelSerializer(DashboardPanelSerializer):
    titles = DashboardTitleKindSerializer(many=True)
    re_reviews_due = DashboardCountSerializer()


class DashboardTargetSerializer(DashboardLinked):
    campaign_id = s.IntegerField()
    campaign = s.CharField()
    target = s.CharField()
    unit_of_measure = s.CharField()
    goal = s.DecimalField(max_digits=16, decimal_places=2)
    actual = s.DecimalField(max_digits=16, decimal_places=2)
    share = s.FloatField(allow_null=True)


class DashboardCampaignsPanelSerializer(DashboardPanelSerializer):
    targets = DashboardTargetSerializer(many=True)


class DashboardProblemUnitSerializer(DashboardLinked):
    unit_id = s.IntegerField()
    unit = s.CharField()
    open = s.IntegerField()
    overdue = s.IntegerField()


class DashboardProblemsPanelSerializer(DashboardPanelSerializer, DashboardLinked):
    open = s.IntegerField()
    overdue = s.IntegerField()
    by_unit = DashboardProblemUnitSerializer(many=True)
    overdue_url = s.CharField()


class DashboardBranchOrganizationSerializer(DashboardLinked):
    id = s.IntegerField()
    name = s.CharField()


class DashboardBranchOwedTypeSerializer(s.Serializer):
    type = s.CharField()
    owed = s.IntegerField()
    held = s.IntegerField()
    missing = s.IntegerField()


class DashboardBranchOwedSerializer(DashboardLinked):
    month = s.CharField(help_text="YYYY-MM")
    owed = s.IntegerField()
    held = s.IntegerField()
    missing = s.IntegerField()
    detail = s.CharField()
    by_type = DashboardBranchOwedTypeSerializer(many=True)


class DashboardAttendanceSerializer(DashboardLinked):
    member_id = s.IntegerField()
    member = s.CharField()
    attended = s.IntegerField()
    expected = s.IntegerField()
    rate = s.FloatField(**RATE)


class DashboardBranchProblemSerializer(DashboardLinked):
    id = s.IntegerField()
    organization = s.CharField()
    description = s.CharField()
    deadline = s.DateField()
    state = s.CharField()
    overdue = s.BooleanField()


class DashboardBranchProblemsSerializer(DashboardLinked):
    open = s.IntegerField()
    overdue = s.IntegerField()
    items = DashboardBranchProblemSerializer(many=True)


class DashboardBranchPairingSerializer(DashboardLinked):
    pairing_id = s.IntegerField()
    scheme = s.CharField()
    partner = s.CharField()
    visits = s.IntegerField()
    last_visit = s.DateField(allow_null=True)


class DashboardBranchVisitsSerializer(s.Serializer):
    year = s.IntegerField()
    count = s.IntegerField()
    pairings = DashboardBranchPairingSerializer(many=True)


class DashboardBranchPanelSerializer(DashboardPanelSerializer):
    organization = DashboardBranchOrganizationSerializer()
    owed = DashboardBranchOwedSerializer()
    attendance = DashboardAttendanceSerializer(many=True)
    problems = DashboardBranchProblemsSerializer()
    visits = DashboardBranchVisitsSerializer()
