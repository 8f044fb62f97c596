using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Contracts.V1;
using Federation.Domain;

namespace Federation.Core.Fediverse;

/// <summary>
/// The ActivityPub documents the actor serves and sends (issue 19). Call-outs enter only
/// through <see cref="FediverseCallOuts.Of"/>, the one rule of what is public.
/// </summary>
public static class FediverseDocuments
{
    public const string ActivityStreams = "https://www.w3.org/ns/activitystreams";
    public const string Security = "https://w3id.org/security/v1";
    public const string PublicAudience = "https://www.w3.org/ns/activitystreams#Public";
    public const string ContentType = "application/activity+json";

    public static JsonObject Actor(FediverseSite site, string name, string summary, string publicKeyPem) => new()
    {
        ["@context"] = new JsonArray(ActivityStreams, Security),
        ["id"] = site.ActorId,
        ["type"] = site.Options.ActorType,
        ["preferredUsername"] = site.Account,
        ["name"] = name,
        ["summary"] = summary,
        ["url"] = site.ActorId,
        ["inbox"] = site.Inbox,
        ["outbox"] = site.Outbox,
        ["followers"] = site.Followers,
        ["manuallyApprovesFollowers"] = false,
        ["discoverable"] = true,
        ["endpoints"] = new JsonObject { ["sharedInbox"] = site.Inbox },
        ["publicKey"] = new JsonObject
        {
            ["id"] = site.KeyId,
            ["owner"] = site.ActorId,
            ["publicKeyPem"] = publicKeyPem,
        },
    };

    public static JsonObject Note(FediverseSite site, CallOutState state, DateTimeOffset? updated)
    {
        var p = FediverseCallOuts.Of(state);
        var id = site.NoteId(state.Id);
        var note = new JsonObject
        {
            ["id"] = id,
            ["type"] = "Note",
            ["attributedTo"] = site.ActorId,
            ["to"] = new JsonArray(PublicAudience),
            ["cc"] = new JsonArray(site.Followers),
            ["content"] = FediverseCallOuts.Html(p, id),
            ["url"] = id,
            ["published"] = Time(Published(state)),
        };
        if (updated is { } u)
        {
            note["updated"] = Time(u);
        }
        return note;
    }

    public static JsonObject Create(FediverseSite site, CallOutState state) =>
        Activity(site, "Create", site.NoteId(state.Id) + "#create", Note(site, state, null), Published(state));

    /// <summary>An Update for each change of the call-out's log, so each has its own id; a close or cancel says so in the note.</summary>
    public static JsonObject Update(FediverseSite site, CallOutState state, DateTimeOffset at) =>
        Activity(site, "Update", $"{site.NoteId(state.Id)}#update-{state.LastSequence}", Note(site, state, at), at);

    public static JsonObject Delete(FediverseSite site, string callOutId, DateTimeOffset at) =>
        Activity(site, "Delete", site.NoteId(callOutId) + "#delete",
            new JsonObject { ["id"] = site.NoteId(callOutId), ["type"] = "Tombstone" }, at);

    /// <summary>The Accept of a Follow names the Follow by what it said, not by everything it carried.</summary>
    public static JsonObject Accept(FediverseSite site, string followId, string follower, DateTimeOffset at) => new()
    {
        ["@context"] = ActivityStreams,
        ["id"] = $"{site.ActorId}#accepts/{Guid.NewGuid():N}",
        ["type"] = "Accept",
        ["actor"] = site.ActorId,
        ["to"] = new JsonArray(follower),
        ["object"] = new JsonObject
        {
            ["id"] = followId,
            ["type"] = "Follow",
            ["actor"] = follower,
            ["object"] = site.ActorId,
        },
        ["published"] = Time(at),
    };

    public static byte[] Bytes(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node);

    private static JsonObject Activity(FediverseSite site, string type, string id, JsonObject obj, DateTimeOffset at) => new()
    {
        ["@context"] = ActivityStreams,
        ["id"] = id,
        ["type"] = type,
        ["actor"] = site.ActorId,
        ["to"] = new JsonArray(PublicAudience),
        ["cc"] = new JsonArray(site.Followers),
        ["published"] = Time(at),
        ["object"] = obj,
    };

    private static DateTimeOffset Published(CallOutState state) =>
        state.PublishedAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
