using QRCoder;

namespace Crowd.Server.Features.Suppliers;

/// <summary>An invitation's link as a QR code, drawn here: no outside service ever learns who is invited where.</summary>
public static class InvitationQr
{
    public static Uri Link(Uri publicUrl, string code) => new(publicUrl, "/join/" + code);

    public static string Svg(Uri link)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(link.AbsoluteUri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(6);
    }
}
