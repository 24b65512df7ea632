"""Request/response shapes of the REST sign-in endpoints (validation lives in services)."""

from rest_framework import serializers


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or email address, any case.")
    password = serializers.CharField(write_only=True, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class VerifySerializer(serializers.Serializer):
    token = serializers.CharField(help_text="An access or refresh token.")


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, help_text="The account's email, any case.")


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(help_text="The `uid` of the emailed link.")
    token = serializers.CharField(help_text="The `token` of the emailed link.")
    new_password = serializers.CharField(write_only=True, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Short-lived; send as `Authorization: Bearer`.")
    refresh = serializers.CharField(help_text="Long-lived; single use (rotated on refresh).")


class AuthPayloadSerializer(TokenPairSerializer):
    user = UserSerializer()


class AccessSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Short-lived; send as `Authorization: Bearer`.")


class CookieAuthPayloadSerializer(AccessSerializer):
    user = UserSerializer()


class ErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    extensions = serializers.DictField(
        help_text="`code` (UNAUTHENTICATED, BAD_USER_INPUT, RATE_LIMITED, ...), "
        "`field` for one bad input, `retryAfter` seconds when rate limited."
    )


class ErrorSerializer(serializers.Serializer):
    errors = ErrorDetailSerializer(many=True)
