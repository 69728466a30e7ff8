using System.Collections.Concurrent;
using System.Globalization;
using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>
/// Live figures of a job for its requester. <c>Watch(jobId)</c> answers the figures now and joins the job's group, which
/// <see cref="DashboardBroadcaster"/> sends "figures" to when they change, at most once a second. A job of another
/// organisation is refused: the caller joins nothing and hears nothing.
/// </summary>
[Authorize(Policy = Roles.Requester)]
public sealed class DashboardHub(JobDashboards dashboards, DashboardWatchers watchers, IStringLocalizer<DashboardText> text) : Hub
{
    public const string Path = "/hubs/jobs";
    public const string FiguresMessage = "figures";
    private const string CultureKey = "culture";

    public override Task OnConnectedAsync()
    {
        var culture = Context.GetHttpContext()?.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture;
        Context.Items[CultureKey] = culture ?? CultureInfo.GetCultureInfo("en");
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (watchers.Remove(Context.ConnectionId) is { } watched)
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, DashboardWatchers.Group(watched.JobId, watched.Culture));
        }
    }

    /// <summary>Starts watching a job (instead of any job watched before on this connection) and answers its figures now.</summary>
    public async Task<DashboardView> Watch(Guid jobId)
    {
        var culture = (CultureInfo)Context.Items[CultureKey]!;
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = culture;
        var organisation = Context.User?.OrganisationIdOrNull();
        var figures = organisation is { } org ? await dashboards.FiguresAsync(org, jobId, Context.ConnectionAborted) : null;
        if (figures is null)
        {
            throw new HubException(text["Your organisation has no job with this id, so there are no live figures of it for you."]);
        }
        if (watchers.Add(Context.ConnectionId, jobId, culture.Name) is { } before)
        {
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, DashboardWatchers.Group(before.JobId, before.Culture));
        }
        await Groups.AddToGroupAsync(Context.ConnectionId, DashboardWatchers.Group(jobId, culture.Name));
        return DashboardView.From(figures, text);
    }
}

/// <summary>Which job each dashboard connection on this node watches, in which language.</summary>
public sealed class DashboardWatchers
{
    public sealed record Watched(Guid JobId, string Culture);

    private readonly ConcurrentDictionary<string, Watched> _connections = new();

    public static string Group(Guid jobId, string culture) => $"job:{jobId:N}:{culture}";

    /// <summary>Records what the connection watches now; returns what it watched before, if anything else.</summary>
    public Watched? Add(string connectionId, Guid jobId, string culture)
    {
        var now = new Watched(jobId, culture);
        Watched? before = null;
        _connections.AddOrUpdate(connectionId, now, (_, old) =>
        {
            before = old == now ? null : old;
            return now;
        });
        return before;
    }

    public Watched? Remove(string connectionId) => _connections.TryRemove(connectionId, out var watched) ? watched : null;

    /// <summary>The watched jobs and, for each, the languages its viewers read.</summary>
    public IReadOnlyDictionary<Guid, string[]> Jobs() =>
        _connections.Values.GroupBy(w => w.JobId).ToDictionary(g => g.Key, g => g.Select(w => w.Culture).Distinct().ToArray());
}
