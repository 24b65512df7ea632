from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from users.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email")
    ordering = ("-date_joined",)
    filter_horizontal = ("favorite_genres", "groups", "user_permissions")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Preferences", {"fields": ("favorite_genres",)}))
    show_full_result_count = False
