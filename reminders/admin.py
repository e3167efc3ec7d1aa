"""The committee staff's admin of reminders (提醒) and their deliveries.

Read and written with `committee.admin` (committee staff only):

- group robots (WeCom, DingTalk) of a unit or an organization: added and changed here; the
  signing secret is a password box on the form and never shown in the list;
- reminders: read-only, filtered by kind and period, with their deliveries inline;
- deliveries: read-only, filtered by status and channel; failed ones are counted at the top of
  the list with a link to them, and the action "retry now" (`services.retry_now`) makes the
  chosen ones due at once.

Every list reads its rows in a constant number of queries (tests/test_admin_queries.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.validators import URLValidator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin_base import CapabilityAdmin

from . import selectors, services
from .models import Delivery, Reminder, Status, Webhook

SITE = "committee.admin"


class WebhookForm(forms.ModelForm):
    # http and https only (URLField alone takes ftp too, which no robot answers).
    url = forms.URLField(
        label=_("webhook address"),
        max_length=500,
        assume_scheme="https",
        validators=[
            URLValidator(
                schemes=["http", "https"],
                message=_("Enter the robot's http or https address."),
                code="scheme",  # "invalid" would be replaced by URLField's own message
            )
        ],
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=True),
        help_text=_("DingTalk's signing secret (加签, starting with SEC); empty for WeCom."),
    )

    class Meta:
        model = Webhook
        fields = ["name", "kind", "unit", "organization", "url", "secret", "active"]


@admin.register(Webhook)
class WebhookAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = SITE
    form = WebhookForm
    list_display = ["name", "kind", "unit", "organization", "active", "signed"]
    list_filter = ["kind", "active"]
    list_select_related = ["unit", "organization"]
    search_fields = ["name", "unit__name", "organization__name"]
    autocomplete_fields = ["unit", "organization"]
    list_per_page = 50

    @admin.display(description=_("signed"), boolean=True)
    def signed(self, obj: Webhook) -> bool:
        return bool(obj.secret)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "recipient", "webhook", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reminder", "recipient", "webhook")


@admin.register(Reminder)
class ReminderAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = None  # made by the beat, never by hand
    list_display = ["text", "kind", "period", "organization", "created_at"]
    list_filter = ["kind", "period"]
    list_select_related = ["organization"]
    search_fields = ["text", "period", "organization__name", "organization__code"]
    date_hierarchy = "created_at"
    fields = ["organization", "kind", "period", "text", "url", "created_at"]
    readonly_fields = fields
    inlines = [DeliveryInline]
    list_per_page = 50


@admin.register(Delivery)
class DeliveryAdmin(CapabilityAdmin, admin.ModelAdmin):
    read_capability = SITE
    write_capability = None  # the action below goes through the service
    list_display = [
        "reminder_text",
        "channel",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "channel", "reminder__kind"]
    list_select_related = ["reminder", "recipient", "webhook"]
    search_fields = ["reminder__text", "last_error", "webhook__name", "recipient__username"]
    fields = [
        "reminder",
        "channel",
        "recipient",
        "webhook",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["retry"]
    list_per_page = 50

    @admin.display(description=_("reminder"), ordering="reminder__text")
    def reminder_text(self, obj: Delivery) -> str:
        return obj.reminder.text

    @admin.display(description=_("sent to"))
    def to(self, obj: Delivery) -> str:
        if obj.webhook_id:
            return str(obj.webhook)
        return obj.recipient.email if obj.recipient else ""

    @admin.action(description=_("Retry now"))
    def retry(self, request, queryset):
        count = services.retry_now(request.user, queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be tried again within minutes.",
                "%(count)d deliveries will be tried again within minutes.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def changelist_view(self, request, extra_context=None):
        failed = selectors.failed_deliveries().count()
        if failed and request.GET.get("status__exact") != Status.FAILED:
            link = reverse("admin:reminders_delivery_changelist") + "?status__exact=failed"
            self.message_user(
                request,
                format_html(
                    '<a href="{}">{}</a>',
                    link,
                    ngettext(
                        "%(count)d delivery failed for good: see it.",
                        "%(count)d deliveries failed for good: see them.",
                        failed,
                    )
                    % {"count": failed},
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
