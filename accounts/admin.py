from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "first_name",
        "role",
        "organization",
        "city_wide",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "is_active", "city_wide", "is_staff"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization", "units"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "organization", "units", "city_wide"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "password1",
                    "password2",
                    "role",
                    "organization",
                    "units",
                    "city_wide",
                ],
            },
        ),
    ]
