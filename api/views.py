"""The REST API for agency systems. Thin: authenticate, validate, one choke-point or service call, serialize.

No view here reads a subject: every response is built from access.disclosure's view objects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.disclosure import NotFound, SearchNotAllowed, disclose_changes, disclose_search, disclose_subject
from access.policy import Principal, principal_for
from api import fhir
from api.auth import ApiError, ClientRateThrottle, CredentialAuthentication, call_context
from api.models import ApiClient
from api.serializers import (
    ChangesResponseSerializer,
    ErrorSerializer,
    SearchRequestSerializer,
    SearchResponseSerializer,
    SubjectSerializer,
    UpdateRequestSerializer,
    UpdateResponseSerializer,
)
from notifications.services import NOTIFY_ITEMS, follow_subject
from records.dataset import CODE_LIST, ITEMS_BY_CODE, MEDICATION, TEXT_LIST
from records.forms import ItemsForm
from records.selectors import SearchCriteria
from records.services import DuplicateIdentifier, EditConflict, ItemsNotWritable, subject_update

CALL_HEADERS = [
    OpenApiParameter(
        "X-On-Behalf-Of", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True, description="The end user in your system."
    ),
    OpenApiParameter(
        "X-Purpose",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="A reason code for access, e.g. custody_detention.",
    ),
    OpenApiParameter("X-Purpose-Detail", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False, description="Optional words."),
]
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid request"),
    401: OpenApiResponse(ErrorSerializer, description="No valid credential"),
    403: OpenApiResponse(ErrorSerializer, description="Not permitted"),
    404: OpenApiResponse(ErrorSerializer, description="No such record, or not visible to this client"),
    429: OpenApiResponse(ErrorSerializer, description="Rate limited"),
}


class IsClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiClient):
            raise ApiError("unauthenticated", "Send 'Authorization: Bearer <credential>' with a MAIS client credential.", 401)
        return True


class ClientView(APIView):
    authentication_classes = [CredentialAuthentication]
    permission_classes = [IsClient]
    throttle_classes = [ClientRateThrottle]

    def principal(self, request: Request) -> Principal:
        return principal_for(request.user)  # type: ignore[arg-type]


def _not_found() -> ApiError:
    return ApiError("not_found", "No such record, or this client may not see it.", 404)


class SearchView(ClientView):
    @extend_schema(
        operation_id="search",
        summary="Search for people by name, date of birth or identifier (POST, so nothing personal is in the URL)",
        parameters=CALL_HEADERS,
        request=SearchRequestSerializer,
        responses={200: SearchResponseSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        purpose, context = call_context(request)
        data = SearchRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        page = fields.pop("page", None) or 1
        criteria = SearchCriteria(**{k: v for k, v in fields.items() if v not in (None, "")})
        try:
            results = disclose_search(principal=self.principal(request), criteria=criteria, purpose=purpose, context=context, page=page)
        except SearchNotAllowed as exc:
            raise ApiError("criterion_not_allowed", str(exc), 403, {exc.criterion: [str(exc)]}) from None
        return Response(SearchResponseSerializer(results).data)


def _form_data(code: str, fields: dict[str, Any]) -> dict[str, Any]:
    """JSON values in the shape the web form takes."""
    kind = ITEMS_BY_CODE[code].kind
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if kind == TEXT_LIST and isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        elif kind == CODE_LIST and isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif kind == MEDICATION and isinstance(value, list):
            value = "\n".join("; ".join(str(m.get(k, "")) for k in ("name", "dose", "frequency")) for m in value if isinstance(m, dict))
        out[name] = "" if value is None else value
    return out


class SubjectView(ClientView):
    @extend_schema(
        operation_id="subject_read",
        summary="One person's record as this client's role may see it; withheld items are marked, never omitted",
        parameters=CALL_HEADERS,
        responses={200: SubjectSerializer, **ERRORS},
    )
    def get(self, request: Request, subject_id: uuid.UUID) -> Response:
        purpose, context = call_context(request)
        try:
            view = disclose_subject(
                principal=self.principal(request), subject_id=subject_id, purpose=purpose, context=context, surface="api"
            )
        except NotFound:
            raise _not_found() from None
        return Response(SubjectSerializer(view).data)

    @extend_schema(
        operation_id="subject_update",
        summary="Change items this client's role may write; refused as a whole if any item is not writable",
        parameters=CALL_HEADERS,
        request=UpdateRequestSerializer,
        responses={
            200: UpdateResponseSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Edit conflict or duplicate"),
            **ERRORS,
        },
    )
    def patch(self, request: Request, subject_id: uuid.UUID) -> Response:
        purpose, context = call_context(request)
        body = UpdateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        items: dict[str, dict[str, Any]] = body.validated_data["items"]
        data: dict[str, Any] = {"version": body.validated_data["version"]}
        for code, fields in items.items():
            data.update(_form_data(code, fields))
        form = ItemsForm(data, item_codes=list(items))
        if not form.is_valid():
            raise ApiError("validation_failed", "Some values are not valid; see fields.", 400, {k: list(v) for k, v in form.errors.items()})
        try:
            version = subject_update(
                principal=self.principal(request),
                subject_id=subject_id,
                expected_version=body.validated_data["version"],
                changes=form.changes(),
                purpose=purpose,
                context=context,
            )
        except ItemsNotWritable as exc:
            raise ApiError(
                "item_not_writable", str(exc), 403, {code: ["Not writable by this client's role."] for code in exc.items}
            ) from None
        except NotFound:
            raise _not_found() from None
        except EditConflict as exc:
            raise ApiError("edit_conflict", f"{exc} Read it again (version {exc.current_version}) and resend.", 409) from None
        except DuplicateIdentifier as exc:
            raise ApiError("duplicate_identifier", str(exc), 409, {exc.item_code: [str(exc)]}) from None
        return Response({"id": str(subject_id), "version": version})


class FhirView(ClientView):
    @extend_schema(
        operation_id="subject_fhir",
        summary="The record as a FHIR R4 (R4B) Bundle, filtered like the page; withheld items carry a data-absent reason",
        parameters=CALL_HEADERS,
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request, subject_id: uuid.UUID) -> Response:
        purpose, context = call_context(request)
        try:
            view = disclose_subject(
                principal=self.principal(request), subject_id=subject_id, purpose=purpose, context=context, surface="fhir"
            )
        except NotFound:
            raise _not_found() from None
        return Response(fhir.bundle(view), content_type="application/fhir+json")


class ChangesView(ClientView):
    @extend_schema(
        operation_id="changes",
        summary="Which items changed after a time (codes and times only, no values), for records this client may see",
        parameters=[
            *CALL_HEADERS,
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, OpenApiParameter.QUERY, required=True, description="ISO 8601, e.g. 2026-11-01T00:00:00Z"
            ),
        ],
        responses={200: ChangesResponseSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        purpose, context = call_context(request)
        raw = request.query_params.get("since", "")
        try:
            since = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            # Python accepts offsets PostgreSQL does not (beyond +/-15:59): compare in UTC.
            since = since.replace(tzinfo=dt.UTC) if since.tzinfo is None else since.astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise ApiError(
                "validation_failed", "Give 'since' as an ISO 8601 date and time.", 400, {"since": ["Not a date and time."]}
            ) from None
        rows = disclose_changes(principal=self.principal(request), since=since, purpose=purpose, context=context)
        return Response(
            {
                "changes": [
                    {"subject_id": str(r.subject_id), "item_code": r.item_code, "kind": r.kind, "changed_at": r.changed_at.isoformat()}
                    for r in rows
                ],
                "next_since": rows[-1].changed_at.isoformat() if rows else None,
            }
        )


class FollowResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    following = serializers.BooleanField()
    notify_items = serializers.ListField(child=serializers.CharField())


class FollowView(ClientView):
    """Changes to followed items are POSTed to the client's webhook, signed, with only the items its role may read."""

    @extend_schema(
        operation_id="subject_follow",
        summary="Follow a record: its webhook is called when release date, risk levels, MAPPA, relapse signs or care coordinator change",
        parameters=CALL_HEADERS,
        request=None,
        responses={200: FollowResponseSerializer, **ERRORS},
    )
    def post(self, request: Request, subject_id: uuid.UUID) -> Response:
        return self._set(request, subject_id, True)

    @extend_schema(
        operation_id="subject_unfollow",
        summary="Stop following a record",
        parameters=CALL_HEADERS,
        request=None,
        responses={200: FollowResponseSerializer, **ERRORS},
    )
    def delete(self, request: Request, subject_id: uuid.UUID) -> Response:
        return self._set(request, subject_id, False)

    def _set(self, request: Request, subject_id: uuid.UUID, follow: bool) -> Response:
        purpose, context = call_context(request)
        if follow:
            try:
                disclose_subject(
                    principal=self.principal(request), subject_id=subject_id, purpose=purpose, context=context, surface="follow"
                )
            except NotFound:
                raise _not_found() from None
        follow_subject(user=request.user, subject_id=subject_id, follow=follow)  # type: ignore[arg-type]
        return Response({"id": str(subject_id), "following": follow, "notify_items": sorted(NOTIFY_ITEMS)})
