namespace Federation.Core.Storage;

/// <summary>Reads of the call-out feed and of notifications.</summary>
public interface ICallOutReads
{
    /// <summary>Call-out, fight and briefings events and filed reports stored after <paramref name="afterPosition"/>, oldest first.</summary>
    IReadOnlyList<FeedEntry> ReadFeed(long afterPosition, int limit);

    long FeedEnd();

    /// <summary>How far the token last looked at "what's new"; null if it never has.</summary>
    NewsSeenRecord? NewsSeen(string tokenId);

    /// <summary>How far the named feed reader has got.</summary>
    long FeedCursor(string name);

    IReadOnlyList<ChannelRecord> ListChannels();

    /// <summary>
    /// Pending deliveries whose time has come, oldest first, to active channels. A channel
    /// whose older delivery is waiting for a retry gets nothing newer meanwhile, so a
    /// receiver sees items in order once it recovers.
    /// </summary>
    IReadOnlyList<DeliveryRecord> DueDeliveries(DateTimeOffset now, int limit);

    IReadOnlyList<DeliveryRecord> ListDeliveries(string? channelId, int limit);
}

/// <summary>Writes of the feed cursors, notification channels and notification deliveries.</summary>
public interface ICallOutWrites
{
    long FeedCursor(string name);
    void SetFeedCursor(string name, long position);

    /// <summary>Records that the token looked up to <paramref name="position"/>; a position behind the one kept does not move it back.</summary>
    void SetNewsSeen(string tokenId, long position, DateTimeOffset at);

    /// <summary>Records a reminder under its key, which enters the feed; false (and nothing written) when that key was recorded before.</summary>
    bool InsertReminder(string key, string objectId, byte[] item);
    void AddChannel(ChannelRecord channel);

    /// <summary>Stops a channel; its undelivered notifications are marked failed so the status says why they never went.</summary>
    bool DeactivateChannel(string id);

    void InsertDelivery(string channelId, long cursor, string objectId, int change, byte[] body);
    void MarkDelivered(long id);

    /// <summary>
    /// Empties the bodies of notifications delivered (or given up) before <paramref name="before"/>:
    /// the status row stays, what it said does not (issue 15 #9). Returns how many were emptied.
    /// </summary>
    int ForgetBodies(DateTimeOffset before);

    /// <summary>Records a failed attempt; the delivery is retried at <paramref name="nextAttemptAt"/>, or given up when that is null.</summary>
    void MarkAttemptFailed(long id, string error, DateTimeOffset? nextAttemptAt);
}
