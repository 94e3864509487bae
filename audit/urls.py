from django.urls import path

from audit import views

urlpatterns = [
    path("", views.workspace, name="audit-workspace"),
    path("events/", views.events, name="audit-events"),
    path("subjects/locate/", views.locate_subject, name="audit-locate"),
    path("subjects/<uuid:subject_id>/", views.subject_report, name="audit-subject"),
    path("users/", views.user_report, name="audit-user"),
    path("export/<slug:kind>/", views.export_csv, name="audit-export"),
    path("integrity/", views.integrity, name="audit-integrity"),
    path("alerts/", views.alerts, name="audit-alerts"),
    path("alerts/<int:alert_id>/", views.alert_action, name="audit-alert-action"),
]
