"""Authentication backend: who may sign in at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
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

    def get_user(self, user_id: Any) -> Any:
        """The signed-in user of every request, with the agency the rules above and the principal need, in one query."""
        model = get_user_model()
        try:
            user = model._default_manager.select_related("agency").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
