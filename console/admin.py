from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages

from brands.admin import ReadOnlyAdmin
from console.login_guard import attempts_unlock
from console.models import Onboarding


@admin.register(Onboarding)
class OnboardingAdmin(ReadOnlyAdmin):
    list_display = ["brand", "step", "started_by", "updated", "live_at"]
    list_filter = [("live_at", admin.EmptyFieldListFilter)]


# Axes registers its own page for failed sign-ins; this one adds an audited Unlock, and
# makes the admin's plain delete (which also unlocks) leave the same audit line.
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class FailedSignInAdmin(AccessAttemptAdmin):
    actions = ["unlock", *AccessAttemptAdmin.actions]

    @admin.action(description="Unlock: forget the selected failed sign-ins", permissions=["delete"])
    def unlock(self, request, queryset) -> None:
        count = attempts_unlock(attempts=queryset, actor=request.user)
        self.message_user(
            request,
            f"Forgot {count} failed sign-in record{'s' if count != 1 else ''}: those people "
            "and addresses can sign in again.",
            messages.SUCCESS,
        )

    def delete_model(self, request, obj) -> None:
        attempts_unlock(attempts=AccessAttempt.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        attempts_unlock(attempts=queryset, actor=request.user)
