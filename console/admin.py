from django.contrib import admin

from brands.admin import ReadOnlyAdmin
from console.models import Onboarding


@admin.register(Onboarding)
class OnboardingAdmin(ReadOnlyAdmin):
    list_display = ["brand", "step", "started_by", "updated", "live_at"]
    list_filter = [("live_at", admin.EmptyFieldListFilter)]
