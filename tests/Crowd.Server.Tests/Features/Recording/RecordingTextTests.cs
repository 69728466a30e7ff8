using System.Globalization;
using System.Reflection;
using Crowd.Audio.Quality;
using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Recording.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class RecordingTextTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public void EveryRecorderErrorAndQualityHintHasAChineseTranslation()
    {
        var english = typeof(RecordingErrors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (string)f.GetValue(null)!)
            .Concat(Enum.GetValues<QualityIssue>().Select(i => i.Hint()))
            .ToList();
        var text = app.Services.GetRequiredService<IStringLocalizer<RecordingText>>();
        var before = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("zh-Hans");
            english.Where(e => text[e].ResourceNotFound).ShouldBeEmpty();
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }
}
