from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpRequest

from users import auth_state
from users.models import RevokedSession, User
from users.services import username_available_check


class PasswordChangeSignsOutForm(AdminPasswordChangeForm):
    """A password set by staff ends every session of the user, as a self-service change does."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit:
            User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
            auth_state.user_changed(user.pk)  # an UPDATE sends no post_save
        return user


class _UsernameCheckedForm(forms.ModelForm):
    """Staff creating or renaming an account go through sign-up's check: no name taken in
    any case, and none that looks like a taken one."""

    def clean_username(self) -> str:
        username = self.cleaned_data.get("username") or ""
        if self.instance.pk and "username" not in self.changed_data:
            return username
        try:
            username_available_check(username, exclude_pk=self.instance.pk)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["username"]) from exc
        return username


class UsernameCheckedCreationForm(_UsernameCheckedForm, AdminUserCreationForm):
    pass


class UsernameCheckedChangeForm(_UsernameCheckedForm, UserChangeForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("username", "email")
    ordering = ("-date_joined",)
    filter_horizontal = ("favorite_genres", "groups", "user_permissions")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Preferences", {"fields": ("favorite_genres",)}))
    readonly_fields = ("token_version",)
    show_full_result_count = False
    change_password_form = PasswordChangeSignsOutForm
    form = UsernameCheckedChangeForm
    add_form = UsernameCheckedCreationForm

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Deactivating signs the user out everywhere; reactivating does not revive old tokens.
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.token_version += 1
        super().save_model(request, obj, form, change)


@admin.register(RevokedSession)
class RevokedSessionAdmin(admin.ModelAdmin):
    list_display = ("sid", "user", "reason", "revoked_at", "expires_at")
    list_filter = ("reason",)
    search_fields = ("sid", "user__username")
    raw_id_fields = ("user",)
