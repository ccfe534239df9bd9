from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    """What ``OPTIONS`` answers: the endpoint's name, description, renderers and parsers.

    DRF's default also lists the writable fields of ``view.get_serializer()`` to whoever may
    write. Viewsets here keep input and output serializers apart and often declare neither as
    ``serializer_class``, so that listing was a 500 for staff (or the output serializer, which
    is not what a client sends). The OpenAPI schema at ``/api/schema/`` describes every body.
    """

    def determine_actions(self, request, view) -> dict:
        return {}
