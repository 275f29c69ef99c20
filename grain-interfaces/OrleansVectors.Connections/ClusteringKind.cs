namespace OrleansVectors.Connections;

/// <summary>How a cluster's silos find each other and clients find the silos.</summary>
public enum ClusteringKind
{
    /// <summary>A development cluster on this machine: gateways on loopback ports, membership held by the primary silo.</summary>
    Localhost,

    /// <summary>Production: membership in Azure Table storage (the OrleansSiloInstances table), gateways found there.</summary>
    AzureTable,
}
