"""The intent model: what a namespace asks for, independent of YAML and of NetworkPolicy."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from netpol_gitops.model.kube import Labels
from netpol_gitops.model.location import Location


class Mode(StrEnum):
    ENFORCE = "enforce"
    AUDIT = "audit"
    OFF = "off"


class Flavor(StrEnum):
    """The CNI family the generated objects are for (repo config ``flavor``)."""

    KUBERNETES = "kubernetes"  # networking.k8s.io/v1 NetworkPolicy only
    CILIUM = "cilium"  # plus CiliumNetworkPolicy for fqdn ends
    CALICO = "calico"  # audit as StagedKubernetesNetworkPolicy


class Deny(StrEnum):
    ALL = "all"
    INGRESS = "ingress"
    EGRESS = "egress"
    NONE = "none"

    @property
    def ingress(self) -> bool:
        return self in (Deny.ALL, Deny.INGRESS)

    @property
    def egress(self) -> bool:
        return self in (Deny.ALL, Deny.EGRESS)


@dataclass(frozen=True)
class PortSpec:
    """One port of a rule: protocol, a number or a name (or None for all), an optional endPort."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    @property
    def named(self) -> bool:
        return isinstance(self.port, str)


# One matchExpressions item: (key, operator, values); operator In, NotIn, Exists or DoesNotExist.
Expression = tuple[str, str, tuple[str, ...]]
Expressions = tuple[Expression, ...]


class EndpointKind(StrEnum):
    """What one end of a flow names (the key of its mapping in the flows value)."""

    PODS = "pods"  # pods of the annotated namespace itself
    NAMESPACE = "namespace"
    NAMESPACES = "namespaces"  # namespaces by label
    CIDR = "cidr"
    INTERNET = "internet"
    ANYWHERE = "anywhere"  # every pod of every namespace and every address: a rule without peers
    FQDN = "fqdn"  # a DNS name or pattern (egress only; flavor cilium)


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow. A pod or namespace selector is its matchLabels (``pods``,
    ``namespace_labels``; None: no selector) and its matchExpressions (``pod_expressions``,
    ``namespace_expressions``); a plain label map in the annotation has no expressions."""

    kind: EndpointKind
    pods: Labels | None = None
    namespace: str | None = None
    namespace_labels: Labels | None = None
    cidr: str | None = None
    except_: tuple[str, ...] = ()
    pod_expressions: Expressions = ()
    namespace_expressions: Expressions = ()
    fqdn: str | None = None  # EndpointKind.FQDN: a name (api.stripe.com) or pattern (*.x.com)

    @property
    def local(self) -> bool:
        """Pods of the annotated namespace itself."""
        return self.kind is EndpointKind.PODS


@dataclass(frozen=True)
class Flow:
    """One allowed connection a namespace asks for: from one end to the other on these ports."""

    name: str
    src: Endpoint
    dst: Endpoint
    ports: tuple[PortSpec, ...]
    origin: str  # the annotation key, or profile:<name>
    location: Location
    # ("from" | "to", i): the flow's from (or to) is a list of ends and this record is its item
    # i, with the other side, a single pods end; the records of one list make one rule
    listed: tuple[str, int] | None = None


@dataclass(frozen=True)
class ScopedDeny:
    """A default deny for the pods a selector picks (``netpol-gitops.io/default-deny-pods``):
    policy ``default-deny-pods-<name>``; the allows of the directions it denies are generated
    for those pods (each allow's own selector combined with this one)."""

    name: str
    deny: Deny  # all, ingress or egress
    pods: Labels
    expressions: Expressions
    location: Location


@dataclass(frozen=True)
class DnsConfig:
    """Where the cluster DNS runs (repo config ``dns``): what allow-dns opens egress to."""

    namespace: str = "kube-system"
    pods: Labels = (("k8s-app", "kube-dns"),)
    ports: tuple[PortSpec, ...] = (PortSpec("UDP", 53), PortSpec("TCP", 53))
    node_local_ip: str | None = None


DEFAULT_PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
)


@dataclass(frozen=True)
class Config:
    """The repo-level NetworkPolicyGenerator config."""

    defaults: tuple[tuple[str, str, Location], ...] = ()
    opt_in: bool = False
    exclude: tuple[str, ...] = ()
    dns: DnsConfig = field(default_factory=DnsConfig)
    private_ranges: tuple[str, ...] = DEFAULT_PRIVATE_RANGES
    profiles: tuple[tuple[str, tuple[Flow, ...]], ...] = ()
    name_prefix: str = ""
    sources: tuple[str, ...] = ()
    location: Location = field(default_factory=lambda: Location("<defaults>"))
    probe: bool = False  # the KRM function and the Argo CD plugin also emit the probes
    # also a Baseline-tier ClusterNetworkPolicy per namespace that denies (generate.baseline)
    cluster_baseline: bool = False
    flavor: Flavor = Flavor.KUBERNETES  # what the generated objects are for (issue 15)

    def profile(self, name: str) -> tuple[Flow, ...] | None:
        for key, flows in self.profiles:
            if key == name:
                return flows
        return None


@dataclass(frozen=True)
class NamespaceIntent:
    """Everything netpol-gitops will generate for one namespace, before it becomes YAML."""

    name: str
    mode: Mode
    deny: Deny
    allow_dns: bool
    allow_same_namespace: bool
    allow_from_namespaces: tuple[str, ...]
    egress_internet: tuple[PortSpec, ...]
    flows: tuple[Flow, ...]
    location: Location
    sources: tuple[tuple[str, str], ...] = ()  # setting -> where it came from
    deny_pods: tuple[ScopedDeny, ...] = ()  # default denies of some pods only
    # allow-from-namespaces entries with a pod selector: (namespace, matchLabels)
    allow_from_pods: tuple[tuple[str, Labels], ...] = ()

    def source_of(self, key: str) -> str:
        for setting, origin in self.sources:
            if setting == key:
                return origin
        return "defaults"
