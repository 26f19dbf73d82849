from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in_view, name="sign-in"),
    path("sign-out/", views.sign_out_view, name="sign-out"),
    path("second-factor/", views.enrol_view, name="enrol"),
    path("step-up/", views.step_up_view, name="step-up"),
    path("api-keys/", views.api_keys_view, name="api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
]
