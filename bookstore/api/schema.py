"""OpenAPI generation: every operation documents its problem details error responses."""

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny

from .problems import PROBLEM_CONTENT_TYPE
from .serializers import ProblemSerializer


class AutoSchema(openapi.AutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = []
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses.append("400")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        if "{" in self.path:
            statuses.append("404")
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
                )
        return responses
