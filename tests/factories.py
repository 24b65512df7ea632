"""factory_boy factories for every model; tests build data with these, not fixtures files."""

from decimal import Decimal

import factory
from django.utils import timezone

from movies.models import Credit, Genre, Keyword, Movie, Person
from playlists.models import Playlist, PlaylistItem
from ratings.models import Favorite, Rating, WatchlistEntry
from users.models import User

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(PASSWORD)


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    tmdb_id = factory.Sequence(lambda n: 10_000 + n)


class KeywordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Keyword

    name = factory.Sequence(lambda n: f"keyword {n}")
    tmdb_id = factory.Sequence(lambda n: 50_000 + n)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    tmdb_id = factory.Sequence(lambda n: 90_000 + n)


class MovieFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Movie
        skip_postgeneration_save = True

    tmdb_id = factory.Sequence(lambda n: 1_000_000 + n)
    title = factory.Sequence(lambda n: f"Movie {n}")
    original_title = factory.LazyAttribute(lambda o: o.title)
    overview = "A film."
    release_date = factory.Sequence(
        lambda n: timezone.datetime(1990 + n % 30, 1 + n % 12, 1).date()
    )
    year = factory.LazyAttribute(lambda o: o.release_date.year if o.release_date else None)
    runtime = 110
    original_language = "en"
    popularity = factory.Sequence(lambda n: float(1000 - n % 1000))
    vote_average = 7.0
    vote_count = 100

    @factory.post_generation
    def genres(self, create, extracted, **kwargs):
        if create and extracted:
            self.genres.set(extracted)

    @factory.post_generation
    def keywords(self, create, extracted, **kwargs):
        """Keyword names or rows; also fills keywords_text, which search indexes."""
        if create and extracted:
            rows = [k if isinstance(k, Keyword) else KeywordFactory(name=k) for k in extracted]
            self.keywords.set(rows)
            self.keywords_text = " ".join(k.name for k in rows)
            Movie.objects.filter(pk=self.pk).update(keywords_text=self.keywords_text)


class CreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Credit

    movie = factory.SubFactory(MovieFactory)
    person = factory.SubFactory(PersonFactory)
    kind = Credit.Kind.CAST
    character = "Hero"
    order = 0


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    user = factory.SubFactory(UserFactory)
    movie = factory.SubFactory(MovieFactory)
    score = Decimal("4.0")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Keep the movie's community rating consistent, as ratings.services does."""
        from django.db.models import F

        rating = super()._create(model_class, *args, **kwargs)
        Movie.objects.filter(pk=rating.movie_id).update(
            rating_count=F("rating_count") + 1, rating_sum=F("rating_sum") + rating.score
        )
        return rating


class WatchlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WatchlistEntry

    user = factory.SubFactory(UserFactory)
    movie = factory.SubFactory(MovieFactory)


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playlist

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Playlist {n}")
    visibility = Playlist.Visibility.PUBLIC


class PlaylistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaylistItem

    playlist = factory.SubFactory(PlaylistFactory)
    movie = factory.SubFactory(MovieFactory)
    position = factory.Sequence(lambda n: n)


class FavoriteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Favorite

    user = factory.SubFactory(UserFactory)
    movie = factory.SubFactory(MovieFactory)
