import pytest


@pytest.mark.django_db
def test_every_response_says_how_long_the_server_took(client):
    response = client.get("/accounts/login/")
    name, duration = response["Server-Timing"].split(";dur=")
    assert name == "app"
    assert float(duration) > 0
