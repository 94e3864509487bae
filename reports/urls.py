from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.index, name="reports"),
    path("reports/<slug:report>/", views.report, name="report"),
]
