from django.urls import path

from governance import views

urlpatterns = [
    path("records/<uuid:subject_id>/emergency/", views.emergency, name="emergency-access"),
    path("admin/agreements/", views.agreements, name="admin-agreements"),
    path("admin/agreements/new/", views.agreement_edit, name="admin-agreement-new"),
    path("admin/agreements/<int:agreement_id>/", views.agreement_edit, name="admin-agreement"),
    path("protocol/", views.protocol, name="protocol"),
    path("admin/protocol/", views.protocol_admin, name="admin-protocol"),
    path("admin/retention/", views.retention, name="admin-retention"),
    path("admin/retention/<uuid:subject_id>/", views.retention_decide, name="admin-retention-decide"),
]
