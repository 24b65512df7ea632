import graphene

from recs import selectors

RecSource = graphene.Enum.from_enum(
    selectors.RecSource, description="Where a recommendation came from."
)
TrendWindow = graphene.Enum.from_enum(
    selectors.TrendWindow, description="How far back `trending` looks: a day or a week."
)


class Recommendation(graphene.ObjectType):
    """One recommended movie for the viewer, with why it was picked."""

    movie = graphene.Field(
        graphene.NonNull("movies.graphql.types.Movie"), description="The recommended movie."
    )
    score = graphene.Float(
        required=True, description="0..1: calibrated affinity, or normalised popularity."
    )
    source = graphene.Field(
        graphene.NonNull(RecSource), description="PERSONALIZED, GENRE, TRENDING or POPULAR."
    )
    because = graphene.List(
        graphene.NonNull("movies.graphql.types.Movie"),
        required=True,
        description="The viewer's own movies that most explain it (empty unless personalized).",
    )
    reason = graphene.String(
        required=True, description='One human sentence, e.g. "Because you rated Heat 5 stars".'
    )
