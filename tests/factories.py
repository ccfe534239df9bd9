import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("correct-horse-battery-staple")
    # An active customer has verified their address (registration makes unverified, inactive ones).
    email_verified = True


def _isbn13(n: int) -> str:
    """A valid ISBN-13 (978 prefix, correct check digit), different for each ``n``."""
    body = f"978{n % 10**9:09d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
    return f"{body}{check}"


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Book"

    isbn13 = factory.Sequence(_isbn13)
    title = factory.Sequence(lambda n: f"Livre {n}")
    slug = factory.Sequence(lambda n: f"livre-{n}")
    price = factory.Faker("pydecimal", left_digits=2, right_digits=2, min_value=5, max_value=60)
    stock = 20
    is_active = True
