using Federation.Node.Jobs;
using Federation.Node.Notifications;

namespace Federation.Node.Hosting;

public static class NotificationsExtensions
{
    /// <summary>Call-outs end to end: expiry sweep, inbox feed, webhooks and e-mail.</summary>
    public static IServiceCollection AddFederationNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<CallOutOptions>(configuration.GetSection("Node"));
        services.AddSingleton<FeedSignal>();
        services.AddSingleton<InboxFeed>();
        services.AddSingleton<WhatsNewView>();
        services.AddSingleton<NotificationChannels>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookTargets>();
        services.AddSingleton<EmailSender>();
        // Redirects are not followed: a signed delivery goes where the operator said, or fails visibly.
        services.AddHttpClient(WebhookSender.ClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("solnet-federation/1"))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                // Every connection dials only an address the webhook may reach, checked then, not when it was added.
                ConnectCallback = sp.GetRequiredService<WebhookTargets>().ConnectAsync,
            });
        services.AddHostedService<Notifier>();
        services.AddHostedService<ExpirySweep>();
        services.AddSingleton<ReminderSweep>();
        services.AddHostedService(sp => sp.GetRequiredService<ReminderSweep>());
        return services;
    }
}
