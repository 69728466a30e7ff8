using System.Text;
using Crowd.Server.Features.DeletionNotices;
using Stripe;

namespace Crowd.Server.Tests.Features.DeletionNotices;

public sealed class WebhookSignatureTests
{
    [Fact]
    public void ADeliverySignedByCrowdChecksOutWithStripesOwnVerifierAndOnlyWithItsSecret()
    {
        const string body = """{"notice":"deletion","clip":"c-1"}""";
        var secret = WebhookSignature.NewSecret();
        var now = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

        var header = WebhookSignature.Sign(secret, now, Encoding.UTF8.GetBytes(body));

        header.ShouldStartWith($"t={now},v1=");
        Should.NotThrow(() => EventUtility.ValidateSignature(body, header, secret, 300, now));
        Should.Throw<StripeException>(() => EventUtility.ValidateSignature(body, header, WebhookSignature.NewSecret(), 300, now));
        Should.Throw<StripeException>(() => EventUtility.ValidateSignature(body, header, secret, 300, now + 301));
    }
}
