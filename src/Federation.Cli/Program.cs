using Federation.Cli;

return await Cli.RunAsync(args);
