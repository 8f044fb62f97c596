using System.Security.Cryptography;
using System.Text.Json;
using Federation.Core;
using Federation.Core.Fediverse;
using Federation.Core.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace Federation.Node.Fediverse;

/// <summary>
/// The actor's inbox (issue 19): it takes Follow (answered with a signed Accept) and Undo
/// of a Follow, and answers 202 to everything else without reading it further. Every post
/// must be signed by a key its actor lists as its own; the refusals say why, and change nothing.
/// </summary>
public sealed class FediverseInbox(IFederationStore store, FediverseSite site, FediversePublisher publisher, RemoteActors remote,
    NodeClock clock, ILogger<FediverseInbox> log)
{
    public async Task HandleAsync(HttpContext c)
    {
        var max = site.Options.MaxInboxBytes;
        if (c.Request.ContentLength > max)
        {
            await FediverseEndpoints.Status(c, StatusCodes.Status413PayloadTooLarge, $"The body is larger than {max} bytes.");
            return;
        }
        if (c.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max;
        }
        byte[] body;
        try
        {
            body = await ReadCappedAsync(c.Request.Body, max, c.RequestAborted);
        }
        catch (InvalidDataException)
        {
            await FediverseEndpoints.Status(c, StatusCodes.Status413PayloadTooLarge, $"The body is larger than {max} bytes.");
            return;
        }
        catch (BadHttpRequestException)
        {
            await FediverseEndpoints.Status(c, StatusCodes.Status413PayloadTooLarge, $"The body is larger than {max} bytes.");
            return;
        }

        // The address the sender signed is the public one; the proxy in front forwarded it here.
        var target = new Uri(site.BaseUrl + c.Request.Path + c.Request.QueryString);
        var headers = c.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        var (claim, error) = HttpSignatures.Read(c.Request.Method, target, headers, body, clock.UtcNow);
        if (claim is null)
        {
            await Refuse(c, StatusCodes.Status401Unauthorized, error!);
            return;
        }

        JsonElement activity;
        try
        {
            using var doc = JsonDocument.Parse(body);
            activity = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            await Refuse(c, StatusCodes.Status400BadRequest, "The body is not JSON.");
            return;
        }
        if (activity.ValueKind != JsonValueKind.Object || Str(activity, "actor") is not { } actorId || Str(activity, "type") is not { } type)
        {
            await Refuse(c, StatusCodes.Status400BadRequest, "The body is not an activity with a type and an actor.");
            return;
        }

        RemoteActor signer;
        try
        {
            signer = await remote.ByKeyAsync(claim.KeyId, c.RequestAborted);
        }
        catch (RemoteFetchException ex)
        {
            await Refuse(c, StatusCodes.Status401Unauthorized, $"The signing key {claim.KeyId} could not be checked: {ex.Message}");
            return;
        }
        using (var rsa = RSA.Create())
        {
            try
            {
                rsa.ImportFromPem(signer.PublicKeyPem);
            }
            catch (ArgumentException)
            {
                await Refuse(c, StatusCodes.Status401Unauthorized, $"The key {claim.KeyId} is not an RSA public key in PEM.");
                return;
            }
            if (!claim.Verify(rsa))
            {
                await Refuse(c, StatusCodes.Status401Unauthorized, $"The signature does not verify with {claim.KeyId}.");
                return;
            }
        }
        if (signer.Id != actorId)
        {
            await Refuse(c, StatusCodes.Status401Unauthorized, $"The request is signed by {signer.Id}'s key but says it is from {actorId}.");
            return;
        }

        switch (type)
        {
            case "Follow":
                await FollowAsync(c, activity, signer);
                return;
            case "Undo" when activity.TryGetProperty("object", out var undone) && IsFollowOf(undone):
                await store.WriteAsync(tx => tx.DeleteFediverseFollower(signer.Id), c.RequestAborted);
                log.LogInformation("Fediverse: {Actor} stopped following.", signer.Id);
                c.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            default:
                // Replies, likes, boosts, deletes of others' posts: this actor does not read them.
                c.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
        }
    }

    private async Task FollowAsync(HttpContext c, JsonElement follow, RemoteActor follower)
    {
        if (Str(follow, "object") != site.ActorId)
        {
            await Refuse(c, StatusCodes.Status400BadRequest, $"This Follow is not for {site.ActorId}.");
            return;
        }
        var followId = Str(follow, "id");
        if (followId is null)
        {
            await Refuse(c, StatusCodes.Status400BadRequest, "The Follow has no id.");
            return;
        }
        await store.WriteAsync(tx =>
        {
            publisher.Accept(tx, new FediverseFollower(follower.Id, follower.Inbox, follower.SharedInbox, clock.UtcNow), followId);
            return 0;
        }, c.RequestAborted);
        log.LogInformation("Fediverse: {Actor} follows; Accept queued.", follower.Id);
        c.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>An Undo's object: the Follow itself, or its id; the signer's own follow is what it ends.</summary>
    private bool IsFollowOf(JsonElement undone) => undone.ValueKind switch
    {
        JsonValueKind.Object => Str(undone, "type") == "Follow" && (Str(undone, "object") ?? site.ActorId) == site.ActorId,
        JsonValueKind.String => true,
        _ => false,
    };

    private async Task Refuse(HttpContext c, int status, string why)
    {
        log.LogInformation("Fediverse inbox refused a post ({Status}): {Why}", status, why);
        await FediverseEndpoints.Status(c, status, why);
    }

    private static async Task<byte[]> ReadCappedAsync(Stream body, int max, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > max)
            {
                throw new InvalidDataException();
            }
        }
        return buffer.ToArray();
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
