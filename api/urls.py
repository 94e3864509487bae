from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from api import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("v1/search", views.SearchView.as_view(), name="api-search"),
    path("v1/subjects/<uuid:subject_id>", views.SubjectView.as_view(), name="api-subject"),
    path("v1/subjects/<uuid:subject_id>/fhir", views.FhirView.as_view(), name="api-subject-fhir"),
    path("v1/subjects/<uuid:subject_id>/follow", views.FollowView.as_view(), name="api-subject-follow"),
    path("v1/changes", views.ChangesView.as_view(), name="api-changes"),
]
