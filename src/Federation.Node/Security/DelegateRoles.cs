using Federation.Core.Storage;


namespace Federation.Node.Security;

/// <summary>
/// The least role each delegate-service method needs. Roles nest: an organiser can do
/// what a delegate can, an operator what both can. A method missing from this map needs
/// the operator: a new operation is closed until someone decides who may use it.
/// </summary>
public static class DelegateRoles
{
    private static readonly Dictionary<string, Role> Required = new()
    {
        // Reading, answering and acting for our own network.
        ["GetNodeInfo"] = Role.Delegate,
        ["ListPeers"] = Role.Delegate,
        ["GetCallOut"] = Role.Delegate,
        ["ListCallOuts"] = Role.Delegate,
        ["RespondToCallOut"] = Role.Delegate,
        ["GetFight"] = Role.Delegate,
        ["ListFights"] = Role.Delegate,
        ["AcceptInvitation"] = Role.Delegate,
        ["DeclineInvitation"] = Role.Delegate,
        ["ReaffirmTerms"] = Role.Delegate,
        ["DeclineAmendment"] = Role.Delegate,
        ["RequestRelease"] = Role.Delegate,
        ["FileReport"] = Role.Delegate,
        ["PlanAction"] = Role.Delegate,
        ["UpdateAction"] = Role.Delegate,
        ["CancelAction"] = Role.Delegate,
        ["ReportAction"] = Role.Delegate,
        ["AcknowledgeStandDown"] = Role.Delegate,
        ["ExportFightCalendar"] = Role.Delegate,
        ["GetBalance"] = Role.Delegate,
        ["ListCommitments"] = Role.Delegate,
        ["GetBriefings"] = Role.Delegate,
        ["QueryInbox"] = Role.Delegate,
        ["SubscribeInbox"] = Role.Delegate,
        // "What's new" is each token's own (issue 17 #2): it tells no more than the inbox stream.
        ["GetWhatsNew"] = Role.Delegate,
        ["MarkNewsSeen"] = Role.Delegate,
        ["ExportPledges"] = Role.Delegate,
        // Starting fights and call-outs, and speaking for the fight.
        ["PublishCallOut"] = Role.Organiser,
        ["CloseCallOut"] = Role.Organiser,
        ["DraftFight"] = Role.Organiser,
        ["UpdateDraftTerms"] = Role.Organiser,
        ["OpenFight"] = Role.Organiser,
        ["InviteToFight"] = Role.Organiser,
        ["ChangeFightStatus"] = Role.Organiser,
        ["AmendTerms"] = Role.Organiser,
        ["GrantRelease"] = Role.Organiser,
        ["DeliverDemand"] = Role.Organiser,
        ["RecordCommunication"] = Role.Organiser,
        ["ListReports"] = Role.Organiser,
        ["SetLocalDetails"] = Role.Organiser,
        ["GetLocalDetails"] = Role.Organiser,
        ["PostBriefing"] = Role.Organiser,
        ["UpdateCallOut"] = Role.Organiser,
        // Peers, keys, tokens, dead letters: the operator (the default below).
        ["AddPeer"] = Role.Operator,
        ["SetPeerState"] = Role.Operator,
        ["CreateToken"] = Role.Operator,
        ["ListTokens"] = Role.Operator,
        ["RevokeToken"] = Role.Operator,
        ["AddWebhook"] = Role.Operator,
        ["AddEmailRecipient"] = Role.Operator,
        ["ListNotificationChannels"] = Role.Operator,
        ["RemoveNotificationChannel"] = Role.Operator,
        ["ListNotificationDeliveries"] = Role.Operator,
        ["ListAudit"] = Role.Operator,
        ["RotateOperatorToken"] = Role.Operator,
        ["EndTokenSessions"] = Role.Operator,
        // A backup holds the node key and every local detail (adr/0015).
        ["TakeBackup"] = Role.Operator,
        // The storage key: who can read what is sealed (issue 24).
        ["UnlockStorage"] = Role.Operator,
        ["LockStorage"] = Role.Operator,
        ["GetStorageRecovery"] = Role.Operator,
        ["RecoverStorage"] = Role.Operator,
        ["GetNodeKeys"] = Role.Operator,
        ["PrepareNodeKey"] = Role.Operator,
        ["InstallNodeKey"] = Role.Operator,
        ["RevokeNodeKey"] = Role.Operator,
        ["RecoverFromPeers"] = Role.Operator,
        // Bundles carry what is owed to a peer off the node, and apply what a peer sent (issue 18).
        ["ExportBundle"] = Role.Operator,
        ["ExportBundleParts"] = Role.Operator,
        ["ImportBundle"] = Role.Operator,
        // Which peers may relay for this node (issue 18 #2, docs/adr/0027).
        ["SetPeerRelay"] = Role.Operator,
    };

    public static Role For(string method) => Required.GetValueOrDefault(method, Role.Operator);

    /// <summary>
    /// Reads of what could identify a worker or tenant, or of what was reported in
    /// confidence: audited like changes, so an operator can see who looked (issue 15).
    /// </summary>
    private static readonly HashSet<string> ConfidentialReads = ["GetLocalDetails", "ListReports", "GetBriefings"];

    /// <summary>
    /// Reads whose answer leaves the node as a file someone carries (a bundle, issue 18):
    /// audited, so an operator can see who made one, and when.
    /// </summary>
    private static readonly HashSet<string> CarriedOff = ["ExportBundle", "ExportBundleParts"];

    /// <summary>Whether a call to <paramref name="method"/> is written to the audit log: every change, confidential reads, and bundles made.</summary>
    public static bool Audited(string method) =>
        (ChangesState(method) && !OwnBookkeeping.Contains(method)) || ConfidentialReads.Contains(method) || CarriedOff.Contains(method);

    /// <summary>
    /// Writes that change only what a token itself has looked at, nothing of the network's:
    /// not audited, or every look at "what's new" would be a row in the audit log.
    /// </summary>
    private static readonly HashSet<string> OwnBookkeeping = ["MarkNewsSeen"];

    /// <summary>Reads change nothing; only the confidential ones are audited.</summary>
    public static bool ChangesState(string method) =>
        !(method.StartsWith("Get", StringComparison.Ordinal) || method.StartsWith("List", StringComparison.Ordinal)
          || method.StartsWith("Export", StringComparison.Ordinal) || method.StartsWith("Query", StringComparison.Ordinal) || method.StartsWith("Subscribe", StringComparison.Ordinal)
          || method.StartsWith("Watch", StringComparison.Ordinal));

    public static string Name(Role role) => role.ToString().ToLowerInvariant();
}
