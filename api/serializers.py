"""Shapes of API requests and responses. Responses are built only from the choke point's view objects.

A withheld item is never omitted: it appears with ``state: "withheld"``, a
``reason`` code (role, agreement, purpose) and a plain-words ``message``, and
no ``value``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from access.disclosure import ItemView
from records.dataset import ITEMS_BY_CODE


class ProvenanceSerializer(serializers.Serializer):
    agency = serializers.CharField()
    person = serializers.CharField()
    changed_at = serializers.DateTimeField()


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    section = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=["shown", "withheld"])
    reason = serializers.SerializerMethodField(help_text="Why the item is withheld: role, agreement or purpose. Null when shown.")
    message = serializers.SerializerMethodField()
    value = serializers.SerializerMethodField(help_text="The stored fields of a shown item; null when withheld.")
    display = serializers.SerializerMethodField(help_text="The value as the record page shows it, one string per line.")
    provenance = ProvenanceSerializer(allow_null=True, required=False)
    reviewed_at = serializers.SerializerMethodField()
    review_overdue = serializers.SerializerMethodField()

    def get_section(self, item: ItemView) -> str:
        return ITEMS_BY_CODE[item.code].section

    def get_reason(self, item: ItemView) -> str | None:
        return item.reason if item.withheld else None

    def get_message(self, item: ItemView) -> str | None:
        return item.marker if item.withheld else None

    def get_value(self, item: ItemView) -> dict[str, Any] | None:
        return None if item.withheld else dict(item.raw)

    def get_display(self, item: ItemView) -> list[str]:
        return [] if item.withheld else list(item.lines)

    def get_reviewed_at(self, item: ItemView) -> str | None:
        return item.freshness.reviewed_at.isoformat() if item.freshness and item.freshness.reviewed_at else None

    def get_review_overdue(self, item: ItemView) -> bool | None:
        return item.freshness.overdue if item.freshness and not item.withheld else None


class ConsentSerializer(serializers.Serializer):
    status = serializers.CharField()
    given_on = serializers.DateField(allow_null=True)
    agency_kinds = serializers.ListField(child=serializers.CharField())
    lawful_basis = serializers.CharField(allow_blank=True)


class EmergencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class SubjectSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="subject_id")
    version = serializers.IntegerField()
    heading = serializers.CharField()
    consent = ConsentSerializer()
    emergency_access = EmergencySerializer(source="emergency", allow_null=True)
    items = serializers.SerializerMethodField()

    def get_items(self, view: Any) -> list[dict[str, Any]]:
        return [ItemSerializer(i).data for s in view.sections for i in s.items]


class SearchRequestSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    nhs_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    pnc_id = serializers.CharField(required=False, allow_blank=True, max_length=20)
    prison_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    cro_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    page = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.SEARCH_MAX_PAGES,
        help_text="Which page of the ranked results, from 1 (the default); each page is audited as a search.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(attrs.get(k) for k in ("name", "date_of_birth", "nhs_number", "pnc_id", "prison_number", "cro_number")):
            raise serializers.ValidationError("Give a name, a date of birth or an identifier to search by.")
        return attrs


class SearchRowSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="subject_id")
    heading = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    items = serializers.SerializerMethodField()

    def get_items(self, row: Any) -> list[dict[str, Any]]:
        return [ItemSerializer(i).data for i in row.items.values()]


class SearchResponseSerializer(serializers.Serializer):
    results = SearchRowSerializer(many=True, source="rows")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_more = serializers.BooleanField(help_text="More people match: ask for the next page, or narrow the search.")
    capped = serializers.BooleanField(help_text="More people match than any page may show: narrow the search.")


class UpdateRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you read; a newer one on the server means a conflict.")
    items = serializers.DictField(
        child=serializers.DictField(),
        help_text="Item code -> {field: value}, values as the web form takes them (dates as YYYY-MM-DD).",
    )

    def validate_items(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(ITEMS_BY_CODE))
        if unknown:
            raise serializers.ValidationError(f"Unknown item codes: {', '.join(unknown)}")
        if not value:
            raise serializers.ValidationError("Name at least one item to change.")
        for code, fields in value.items():
            extra = sorted(set(fields) - set(ITEMS_BY_CODE[code].model_fields))
            if extra:
                raise serializers.ValidationError(f"{code} has no field(s) {', '.join(extra)}")
        return value


class UpdateResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()


class ChangeSerializer(serializers.Serializer):
    subject_id = serializers.UUIDField()
    item_code = serializers.CharField()
    kind = serializers.ChoiceField(choices=["change", "confirm"])
    changed_at = serializers.DateTimeField()


class ChangesResponseSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    next_since = serializers.DateTimeField(allow_null=True)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()
