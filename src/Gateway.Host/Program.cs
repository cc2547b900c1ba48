// The gateway executable: the configuration selected with -p:GatewayConfig=... was compiled into
// Gateway.Generated.CompiledGateway at build time; nothing reads it at run time.
return await Gateway.Runtime.Hosting.GatewayProgram.RunAsync(args, Gateway.Generated.CompiledGateway.Definition).ConfigureAwait(false);
