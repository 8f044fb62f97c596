using Federation.Contracts.V1;
using Federation.Node.Notifications;

namespace Federation.Node.Dashboard.Pages;

/// <summary>
/// "What's new" (issue 17 #2): others' answers in what this node started since the signed-in
/// token last looked. Viewing the page is looking: what it showed is marked seen, so the
/// menu's count goes back to zero; what arrives meanwhile stays new.
/// </summary>
public sealed class NewsModel(DashboardContext context, WhatsNewView news) : DashboardPage(context)
{
    public WhatsNew Whats { get; private set; } = new();

    protected override void Load() => Whats = news.For(Caller.TokenId);

    protected override async Task AfterHandlerAsync(CancellationToken ct)
    {
        if (HttpMethods.IsGet(Request.Method) && Whats.UpTo > 0)
        {
            await news.MarkSeenAsync(Caller.TokenId, Whats.UpTo, ct);
        }
    }

    public string Where(InboxItem item) => item.FightId.Length > 0 ? $"/fights/{Uri.EscapeDataString(item.FightId)}" : $"/callouts/{Uri.EscapeDataString(item.CallOutId)}";
}
