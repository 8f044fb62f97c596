namespace Federation.Node.Notifications;

/// <summary>Call-out settings, bound from the "Node" section next to <see cref="Federation.Core.NodeOptions"/>.</summary>
public sealed class CallOutOptions
{
    /// <summary>How often the issuer looks for its call-outs whose expiry has come.</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public NotificationOptions Notifications { get; set; } = new();

    public SmtpOptions Smtp { get; set; } = new();
}

/// <summary>Outbound notifications ("Node:Notifications:*").</summary>
public sealed class NotificationOptions
{
    /// <summary>How often the notifier and open subscriptions look for new events.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First retry delay for a failed webhook or e-mail; doubles (with jitter) up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Attempts before a delivery is given up and shown as failed.</summary>
    public int MaxAttempts { get; set; } = 20;

    /// <summary>Deadline for one webhook call or one SMTP conversation.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a sent (or given-up) notification's body is kept, for the operator to see what
    /// went, before it is emptied; the delivery's status row stays (issue 15 #9).
    /// </summary>
    public TimeSpan KeepDelivered { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Host names, addresses or CIDR blocks (e.g. "10.1.2.0/24") webhooks may reach although
    /// they are loopback, link-local or private; none by default (see <see cref="WebhookTargets"/>).
    /// </summary>
    public List<string> AllowedWebhookTargets { get; set; } = [];

    /// <summary>
    /// The address people open this node's dashboard at (e.g. "https://solnet.example.org"),
    /// for the link each notification carries; unset, the dashboard's own address (Node:DashboardHost and port).
    /// </summary>
    public string DashboardUrl { get; set; } = "";

    /// <summary>How often the node looks for reminders that have fallen due (issue 17 #3).</summary>
    public TimeSpan ReminderSweepInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long before a pledged day, a planned action's start or a call-out's window end its reminder goes.</summary>
    public TimeSpan RemindBefore { get; set; } = Federation.Domain.ReminderTimes.Default.Before;

    /// <summary>How long after a fight ends an unacknowledged stand-down is reminded of.</summary>
    public TimeSpan RemindStandDownAfter { get; set; } = Federation.Domain.ReminderTimes.Default.StandDownAfter;
}

/// <summary>The SMTP server e-mail notifications go through ("Node:Smtp:*").</summary>
public sealed class SmtpOptions
{
    public string Host { get; set; } = "";
    public int Port { get; set; } = 587;

    /// <summary>
    /// starttls (the default: the server must offer it, or nothing is sent), ssl (TLS on
    /// connect, port 465), or none: mail, and the SMTP password, in clear, to be chosen explicitly.
    /// </summary>
    public string Security { get; set; } = "starttls";

    public string Username { get; set; } = "";
    public string Password { get; set; } = "";

    /// <summary>The sender address, e.g. "Leeds SolNet &lt;solnet@example.org&gt;".</summary>
    public string From { get; set; } = "";

    public bool Configured => Host.Length > 0 && From.Length > 0;
}
