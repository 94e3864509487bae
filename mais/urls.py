from django.urls import include, path

from access import views as access_views
from access import views_admin as admin_views
from api import views_admin as api_admin_views
from mais import views
from notifications import views as notification_views
from records import views as records_views

urlpatterns = [
    # The pages opened most (every search and record view, every edit) first: Django tries the patterns in order on
    # every request, and from the end of the list a record view's path was matched against some fifty patterns (issue
    # 6). No two patterns here match the same path (tests/mais/test_urls.py), so the order changes nothing else.
    path("search/", records_views.search, name="search"),
    path("records/<uuid:subject_id>/", records_views.record, name="record"),
    path("records/<uuid:subject_id>/edit/<slug:section>/", records_views.edit_section, name="edit-section"),
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("login/", access_views.MaisLoginView.as_view(), name="login"),
    path("login/verify/", access_views.otp_verify, name="otp-verify"),
    path("login/enrol/", access_views.otp_enrol, name="otp-enrol"),
    path("logout/", access_views.logout_view, name="logout"),
    path("admin/", admin_views.workspace, name="admin-workspace"),
    path("admin/matrix/", access_views.matrix, name="matrix"),
    path("admin/agencies/", admin_views.agencies, name="admin-agencies"),
    path("admin/agencies/<int:agency_id>/", admin_views.agency_edit, name="admin-agency"),
    path("admin/users/", admin_views.users, name="admin-users"),
    path("admin/users/new/", admin_views.user_new, name="admin-user-new"),
    path("admin/users/import/", admin_views.users_import, name="admin-users-import"),
    path("admin/users/<int:user_id>/", admin_views.user_edit, name="admin-user"),
    path("admin/users/<int:user_id>/<slug:action>/", admin_views.user_action, name="admin-user-action"),
    path("admin/access-review/", admin_views.access_review, name="admin-access-review"),
    path("login/reset/<uidb64>/<token>/", access_views.PasswordSetView.as_view(), name="password-reset"),
    path("login/reset/done/", access_views.password_set_done, name="password-reset-done"),
    path("audit/", include("audit.urls")),
    path("", include("governance.urls")),
    path("api/", include("api.urls")),
    path("", include("partnership.urls")),
    path("", include("reports.urls")),
    path("admin/api-clients/", api_admin_views.clients, name="admin-api-clients"),
    path("admin/api-clients/<int:client_id>/", api_admin_views.client_action, name="admin-api-client"),
    path("records/caseload/", records_views.caseload, name="caseload"),
    path("records/caseload/export/", records_views.caseload_export, name="caseload-export"),
    path("records/caseload/follow/", notification_views.follow_caseload, name="caseload-follow"),
    path("records/<uuid:subject_id>/follow/", notification_views.follow, name="follow"),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("records/<uuid:subject_id>/consent/", records_views.consent, name="consent"),
    path("records/<uuid:subject_id>/confirm/<slug:section>/", records_views.confirm_section, name="confirm-section"),
    path("records/new/", records_views.enrol, name="enrol"),
    path("records/<uuid:subject_id>/preview/", records_views.preview, name="preview"),
    path("records/<uuid:subject_id>/history/<str:item_code>/", records_views.item_history, name="item-history"),
]

handler400 = views.error_400
handler403 = views.error_403
handler404 = views.error_404
handler500 = views.error_500
