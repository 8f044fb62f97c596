using System.Diagnostics;
using System.Globalization;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Federation.Load;

/// <summary>
/// The real node executable in a process of its own, as an operator runs it: time from
/// starting the process until its gRPC health check answers SERVING, and its resident
/// memory once it has sat idle.
/// </summary>
public static class Footprint
{
    public static async Task RunAsync(Profile p, List<Row> rows)
    {
        var dll = NodeDll();
        var data = Directory.CreateTempSubdirectory("fed-load-footprint-").FullName;
        try
        {
            var starts = new List<double>();
            double firstStart = 0;
            long rss = 0, priv = 0;
            for (var i = 0; i < p.FootprintStarts; i++)
            {
                var port = Ports.Free();
                var dashboard = Ports.Free();
                var clock = Stopwatch.StartNew();
                using var process = Start(dll, "--name", "footprint", "--port", port.ToString(CultureInfo.InvariantCulture), "--data", data,
                    "--dashboard-port", dashboard.ToString(CultureInfo.InvariantCulture));
                try
                {
                    await WaitServingAsync(port, process);
                    var ms = clock.Elapsed.TotalMilliseconds;
                    if (i == 0)
                    {
                        // The first start also creates the key, the token and the database.
                        firstStart = ms;
                    }
                    else
                    {
                        starts.Add(ms);
                    }
                    Report.Progress($"Footprint: start {i + 1}/{p.FootprintStarts} serving after {Report.F(ms, "F0")} ms");
                    if (i == p.FootprintStarts - 1)
                    {
                        Report.Progress($"Footprint: idle for {p.Idle.TotalSeconds}s, then reading its resident memory…");
                        await Task.Delay(p.Idle);
                        (rss, priv) = Resident(process.Id);
                    }
                }
                finally
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            starts.Sort();
            var median = starts.Count > 0 ? Report.Quantile(starts, 0.5) : firstStart;
            var mb = rss / (1024.0 * 1024.0);
            var ownMb = priv / (1024.0 * 1024.0);
            Report.Progress($"  serving after {Report.F(median, "F0")} ms (median of restarts), first start {Report.F(firstStart, "F0")} ms; idle RSS {Report.F(mb, "F1")} MB");
            var bare = await BareStartAsync(Math.Max(1, p.FootprintStarts - 1));
            Report.Progress($"  a bare ASP.NET Core gRPC server serves after {Report.F(bare, "F0")} ms (median): the node takes {Report.F(median / bare, "F2")}×");
            rows.Add(Report.RatioAtMost($"Footprint: node start to serving against a bare ASP.NET Core gRPC server's (medians of {starts.Count} restarts)", median / bare, 2.0));
            rows.Add(new Row("Footprint: idle resident memory of a node process (RSS)", $"{Report.F(mb, "F1")} MB", "< 100 MB", mb < 100));
            rows.Add(new Row("Footprint: of which the process's own (heap, type data, JIT code; the rest is shared mapped files)", $"{Report.F(ownMb, "F1")} MB", "< 35 MB", ownMb < 35));
            rows.Add(new Row($"Footprint: process start to serving (median of {starts.Count} restarts)", $"{Report.F(median, "F0")} ms"));
            rows.Add(new Row("Footprint: bare ASP.NET Core gRPC server, start to serving (same run)", $"{Report.F(bare, "F0")} ms"));
            rows.Add(new Row("Footprint: first start to serving (creates key and database)", $"{Report.F(firstStart, "F0")} ms"));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The median time from starting this tool as a bare gRPC server (<see cref="BareServer"/>) until it answers SERVING.</summary>
    private static async Task<double> BareStartAsync(int starts)
    {
        var times = new List<double>();
        for (var i = 0; i < starts; i++)
        {
            var port = Ports.Free();
            var clock = Stopwatch.StartNew();
            using var process = Start(typeof(BareServer).Assembly.Location, BareServer.Flag, port.ToString(CultureInfo.InvariantCulture));
            try
            {
                await WaitServingAsync(port, process);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        times.Sort();
        return Report.Quantile(times, 0.5);
    }

    /// <summary>Starts <c>dotnet DLL ARGS…</c>, its output read and dropped so it never blocks on a full pipe.</summary>
    private static Process Start(string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Path.GetFileName(dll)}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitServingAsync(int port, Process process)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var health = new Health.HealthClient(channel);
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The process exited with code {process.ExitCode} before serving.");
            }
            try
            {
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException)
            {
                // not listening yet
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("The node did not serve within 60 s.");
    }

    /// <summary>
    /// Resident memory, and the part of it that is this process's own (anonymous memory,
    /// the GC heap among it, and the runtime's memfd mappings: its type data and
    /// JIT-compiled code): the rest is mapped runtime and library files, which the kernel
    /// shares between processes and can drop.
    /// </summary>
    private static (long Rss, long Private) Resident(int pid)
    {
        long Field(string name) => File.ReadLines($"/proc/{pid}/smaps_rollup")
            .Where(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024)
            .FirstOrDefault();
        return (Field("Rss"), Field("Anonymous") + DoubleMapped(pid));
    }

    /// <summary>
    /// With write-xor-execute the runtime maps its loader heaps through a memfd, twice
    /// (writable and executable views), not as anonymous memory: type data (method tables
    /// and the like) and JIT-compiled code.
    /// </summary>
    private static long DoubleMapped(int pid)
    {
        long total = 0;
        var inMemfd = false;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-'))
            {
                inMemfd = line.Contains("/memfd:", StringComparison.Ordinal);
            }
            else if (inMemfd && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                total += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return total;
    }

    /// <summary>The node as built by the same command that built this tool: src/Federation.Node/bin/CONFIG/net10.0.</summary>
    private static string NodeDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory);
        var framework = baseDir.Name;                  // net10.0
        var configuration = baseDir.Parent!.Name;      // Release or Debug
        var root = baseDir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Federation.sln")))
        {
            root = root.Parent;
        }
        if (root is null)
        {
            throw new InvalidOperationException("Run the load tool from the repository (Federation.sln not found above it).");
        }
        var dll = Path.Combine(root.FullName, "src", "Federation.Node", "bin", configuration, framework, "federation-node.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the node first (dotnet build -c " + configuration + ").", dll);
    }
}
