using System.Text.Json;
using System.Text.Json.Nodes;
using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Core.Fediverse;
using Federation.Core.Storage;
using Federation.Domain;
using Microsoft.Extensions.Options;

namespace Federation.Node.Fediverse;

/// <summary>
/// The actor's HTTP face (issue 19): WebFinger, NodeInfo 2.1, the actor, its outbox,
/// followers and inbox, and each public call-out's Note. Served on the dashboard's port
/// (HTTP/1.1, behind the operator's TLS proxy, docs/operators.md "On the fediverse") and
/// only when Node:Fediverse:Enabled is on: otherwise these paths are the dashboard's 404s.
/// </summary>
public static class FediverseEndpoints
{
    public const int OutboxPageSize = 20;

    private static readonly string[] Paths = ["/.well-known/webfinger", "/.well-known/nodeinfo", "/nodeinfo/2.1", "/fediverse"];

    public static WebApplication MapFediverse(this WebApplication app, NodeOptions options)
    {
        var site = app.Services.GetRequiredService<FediverseSite>();
        var port = options.ResolvedDashboardPort;
        if (!site.Enabled || port == 0)
        {
            return app;
        }
        app.MapWhen(c => c.Connection.LocalPort == port && Paths.Any(p => c.Request.Path.StartsWithSegments(p)), branch =>
            branch.Run(c => HandleAsync(c, site)));
        return app;
    }

    private static Task HandleAsync(HttpContext c, FediverseSite site)
    {
        // No routing table of its own: a handful of fixed paths, read plainly.
        c.SetEndpoint(null);
        c.Response.Headers.XContentTypeOptions = "nosniff";
        c.Response.Headers.CacheControl = "no-cache";
        var path = c.Request.Path.Value ?? "";
        var get = HttpMethods.IsGet(c.Request.Method) || HttpMethods.IsHead(c.Request.Method);
        var services = c.RequestServices;
        return (path, get) switch
        {
            ("/.well-known/webfinger", true) => WebFinger(c, site),
            ("/.well-known/nodeinfo", true) => Json(c, new JsonObject
            {
                ["links"] = new JsonArray(new JsonObject
                {
                    ["rel"] = "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    ["href"] = $"{site.BaseUrl}/nodeinfo/2.1",
                }),
            }, "application/json"),
            ("/nodeinfo/2.1", true) => NodeInfo(c, services),
            ("/fediverse/actor", true) => Actor(c, site, services),
            ("/fediverse/outbox", true) => Outbox(c, site, services),
            ("/fediverse/followers", true) => Json(c, new JsonObject
            {
                ["@context"] = FediverseDocuments.ActivityStreams,
                ["id"] = site.Followers,
                ["type"] = "OrderedCollection",
                // How many, never who: a network's followers are nobody else's business.
                ["totalItems"] = services.GetRequiredService<IFederationStore>().FediverseFollowers().Count,
            }),
            ("/fediverse/inbox", false) when HttpMethods.IsPost(c.Request.Method) =>
                services.GetRequiredService<FediverseInbox>().HandleAsync(c),
            _ when get && path.StartsWith("/fediverse/call-outs/", StringComparison.Ordinal) =>
                NoteAsync(c, site, services, path["/fediverse/call-outs/".Length..]),
            _ => Status(c, StatusCodes.Status404NotFound, "Not found."),
        };
    }

    private static Task WebFinger(HttpContext c, FediverseSite site)
    {
        var resource = c.Request.Query["resource"].ToString();
        if (resource.Length == 0)
        {
            return Status(c, StatusCodes.Status400BadRequest, "Give ?resource=acct:name@host.");
        }
        if (!resource.Equals(site.Handle, StringComparison.OrdinalIgnoreCase) && resource != site.ActorId)
        {
            return Status(c, StatusCodes.Status404NotFound, $"No account {resource} here; this node's is {site.Handle}.");
        }
        c.Response.Headers.AccessControlAllowOrigin = "*";
        return Json(c, new JsonObject
        {
            ["subject"] = site.Handle,
            ["aliases"] = new JsonArray(site.ActorId),
            ["links"] = new JsonArray(new JsonObject
            {
                ["rel"] = "self",
                ["type"] = FediverseDocuments.ContentType,
                ["href"] = site.ActorId,
            }),
        }, "application/jrd+json");
    }

    private static Task NodeInfo(HttpContext c, IServiceProvider services)
    {
        var store = services.GetRequiredService<IFederationStore>();
        return Json(c, new JsonObject
        {
            ["version"] = "2.1",
            ["software"] = new JsonObject
            {
                ["name"] = "solnet",
                ["version"] = SoftwareVersion.Number,
            },
            ["protocols"] = new JsonArray("activitypub"),
            ["services"] = new JsonObject { ["inbound"] = new JsonArray(), ["outbound"] = new JsonArray() },
            ["openRegistrations"] = false,
            ["usage"] = new JsonObject
            {
                ["users"] = new JsonObject { ["total"] = 1 },
                ["localPosts"] = store.PublicCallOuts().Count,
            },
            ["metadata"] = new JsonObject(),
        }, "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"");
    }

    private static Task Actor(HttpContext c, FediverseSite site, IServiceProvider services)
    {
        var name = services.GetRequiredService<IOptions<NodeOptions>>().Value.Name;
        var summary = $"<p>Public call-outs of {System.Net.WebUtility.HtmlEncode(name)}, a solidarity network. "
            + "Follow to hear of pickets and actions. This account posts only; it does not read replies.</p>";
        return Json(c, FediverseDocuments.Actor(site, name, summary, services.GetRequiredService<FediverseKey>().PublicKeyPem));
    }

    /// <summary>The outbox as a paged OrderedCollection: the collection says how many; ?page=N holds them, latest first.</summary>
    private static Task Outbox(HttpContext c, FediverseSite site, IServiceProvider services)
    {
        var posts = PublicStates(services);
        var pageText = c.Request.Query["page"].ToString();
        if (pageText.Length == 0)
        {
            return Json(c, new JsonObject
            {
                ["@context"] = FediverseDocuments.ActivityStreams,
                ["id"] = site.Outbox,
                ["type"] = "OrderedCollection",
                ["totalItems"] = posts.Count,
                ["first"] = $"{site.Outbox}?page=1",
                ["last"] = $"{site.Outbox}?page={Math.Max(1, (posts.Count + OutboxPageSize - 1) / OutboxPageSize)}",
            });
        }
        if (!int.TryParse(pageText, out var page) || page < 1)
        {
            return Status(c, StatusCodes.Status400BadRequest, "page must be a whole number from 1.");
        }
        var items = new JsonArray(posts.Skip((page - 1) * OutboxPageSize).Take(OutboxPageSize)
            .Select(s => (JsonNode)Strip(FediverseDocuments.Create(site, s))).ToArray());
        var doc = new JsonObject
        {
            ["@context"] = FediverseDocuments.ActivityStreams,
            ["id"] = $"{site.Outbox}?page={page}",
            ["type"] = "OrderedCollectionPage",
            ["partOf"] = site.Outbox,
            ["orderedItems"] = items,
        };
        if (page * OutboxPageSize < posts.Count)
        {
            doc["next"] = $"{site.Outbox}?page={page + 1}";
        }
        if (page > 1)
        {
            doc["prev"] = $"{site.Outbox}?page={page - 1}";
        }
        return Json(c, doc);
    }

    private static Task NoteAsync(HttpContext c, FediverseSite site, IServiceProvider services, string noteKey)
    {
        var state = PublicStates(services).FirstOrDefault(s => FediverseSite.NoteKey(s.Id) == noteKey);
        if (state is null)
        {
            return Status(c, StatusCodes.Status404NotFound, "No public call-out here by that id.");
        }
        var note = FediverseDocuments.Note(site, state, null);
        if (!WantsActivityJson(c.Request))
        {
            // A person following the post's link from Mastodon: the same public fields, as a page.
            var p = FediverseCallOuts.Of(state);
            c.Response.ContentType = "text/html; charset=utf-8";
            c.Response.Headers.ContentSecurityPolicy = "default-src 'none'";
            return c.Response.WriteAsync($"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{System.Net.WebUtility.HtmlEncode(p.Title)}</title>"
                + $"<body>{FediverseCallOuts.Html(p, (string)note["id"]!)}</body></html>\n");
        }
        note["@context"] = FediverseDocuments.ActivityStreams;
        return Json(c, note);
    }

    /// <summary>ActivityPub clients ask for activity+json or ld+json; a browser asks for HTML.</summary>
    private static bool WantsActivityJson(HttpRequest request)
    {
        var accept = request.Headers.Accept.ToString();
        return accept.Length == 0 || accept.Contains("activity+json", StringComparison.OrdinalIgnoreCase)
            || accept.Contains("ld+json", StringComparison.OrdinalIgnoreCase) || !accept.Contains("text/html", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Public call-outs this node issued and still holds, latest first; nothing else is ever listed.</summary>
    private static List<CallOutState> PublicStates(IServiceProvider services)
    {
        var store = services.GetRequiredService<IFederationStore>();
        var callOuts = services.GetRequiredService<CallOutCommands>();
        var list = new List<CallOutState>();
        foreach (var row in store.PublicCallOuts())
        {
            try
            {
                var state = callOuts.Get(row.CallOutId);
                if (!state.Purged)
                {
                    list.Add(state);
                }
            }
            catch (RuleViolation)
            {
                // Gone from this node: nothing to show.
            }
        }
        return list;
    }

    /// <summary>An activity inside a collection needs no context of its own.</summary>
    private static JsonObject Strip(JsonObject activity)
    {
        activity.Remove("@context");
        return activity;
    }

    internal static Task Json(HttpContext c, JsonNode body, string contentType = FediverseDocuments.ContentType)
    {
        c.Response.ContentType = contentType;
        return c.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body)).AsTask();
    }

    internal static Task Status(HttpContext c, int status, string message)
    {
        c.Response.StatusCode = status;
        c.Response.ContentType = "text/plain; charset=utf-8";
        return c.Response.WriteAsync(message + "\n");
    }
}
