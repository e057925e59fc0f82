from django.urls import path

from .views import BenchTokenView, BenchView

urlpatterns = [
    path("ws/<slug:route>", BenchView.as_view(), name="bench_ws"),
    path("ws-token/<slug:route>", BenchTokenView.as_view(), name="bench_ws_token"),
]
