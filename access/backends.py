"""Authentication backend: who may sign in at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Rule: an inactive user, an expired account or a user of an inactive agency cannot sign in."""

    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if user.expires_on and user.expires_on < dt.date.today():
            return False
        if user.agency_id and not user.agency.is_active:
            return False
        return True
