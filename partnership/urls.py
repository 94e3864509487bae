from django.urls import path

from partnership import views

urlpatterns = [
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/<int:referral_id>/", views.referral, name="referral"),
    path("referrals/<int:referral_id>/<slug:step>/", views.referral_step, name="referral-step"),
    path("records/<uuid:subject_id>/refer/", views.refer, name="refer"),
    path("records/<uuid:subject_id>/sharing/", views.sharing_decisions, name="sharing-decisions"),
    path("records/<uuid:subject_id>/sharing/new/", views.sharing_decision_new, name="sharing-decision-new"),
]
