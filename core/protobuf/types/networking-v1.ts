// Protobuf field facts for k8s.io/api networking/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const networkingV1: PackageFacts = {
  pkg: 'networking.v1',
  group: 'networking.k8s.io',
  version: 'v1',
  messages: {
    HTTPIngressPath: {
      1: 'path string ?',
      3: 'pathType string !',
      2: 'backend networking.v1.IngressBackend',
    },
    HTTPIngressRuleValue: {
      1: 'paths []networking.v1.HTTPIngressPath !',
    },
    Ingress: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec networking.v1.IngressSpec',
      3: 'status networking.v1.IngressStatus',
    },
    IngressBackend: {
      4: 'service networking.v1.IngressServiceBackend',
      3: 'resource core.v1.TypedLocalObjectReference',
    },
    IngressClass: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec networking.v1.IngressClassSpec',
    },
    IngressClassList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []networking.v1.IngressClass !',
    },
    IngressClassParametersReference: {
      1: 'apiGroup string',
      2: 'kind string',
      3: 'name string',
      4: 'scope string !',
      5: 'namespace string',
    },
    IngressClassSpec: {
      1: 'controller string ?',
      2: 'parameters networking.v1.IngressClassParametersReference',
    },
    IngressList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []networking.v1.Ingress !',
    },
    IngressLoadBalancerIngress: {
      1: 'ip string ?',
      2: 'hostname string ?',
      4: 'ports []networking.v1.IngressPortStatus',
    },
    IngressLoadBalancerStatus: {
      1: 'ingress []networking.v1.IngressLoadBalancerIngress',
    },
    IngressPortStatus: {
      1: 'port int32',
      2: 'protocol string',
      3: 'error string',
    },
    IngressRule: {
      1: 'host string ?',
      2: 'ingressRuleValue networking.v1.IngressRuleValue inline',
    },
    IngressRuleValue: {
      1: 'http networking.v1.HTTPIngressRuleValue',
    },
    IngressServiceBackend: {
      1: 'name string',
      2: 'port networking.v1.ServiceBackendPort',
    },
    IngressSpec: {
      4: 'ingressClassName string',
      1: 'defaultBackend networking.v1.IngressBackend',
      2: 'tls []networking.v1.IngressTLS',
      3: 'rules []networking.v1.IngressRule',
    },
    IngressStatus: {
      1: 'loadBalancer networking.v1.IngressLoadBalancerStatus',
    },
    IngressTLS: {
      1: 'hosts []string',
      2: 'secretName string ?',
    },
    IPAddress: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec networking.v1.IPAddressSpec',
    },
    IPAddressList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []networking.v1.IPAddress !',
    },
    IPAddressSpec: {
      1: 'parentRef networking.v1.ParentReference',
    },
    IPBlock: {
      1: 'cidr string',
      2: 'except []string',
    },
    NetworkPolicy: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec networking.v1.NetworkPolicySpec',
    },
    NetworkPolicyEgressRule: {
      1: 'ports []networking.v1.NetworkPolicyPort',
      2: 'to []networking.v1.NetworkPolicyPeer',
    },
    NetworkPolicyIngressRule: {
      1: 'ports []networking.v1.NetworkPolicyPort',
      2: 'from []networking.v1.NetworkPolicyPeer',
    },
    NetworkPolicyList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []networking.v1.NetworkPolicy !',
    },
    NetworkPolicyPeer: {
      1: 'podSelector meta.v1.LabelSelector',
      2: 'namespaceSelector meta.v1.LabelSelector',
      3: 'ipBlock networking.v1.IPBlock',
    },
    NetworkPolicyPort: {
      1: 'protocol string',
      2: 'port intstr.IntOrString',
      3: 'endPort int32',
    },
    NetworkPolicySpec: {
      1: 'podSelector meta.v1.LabelSelector',
      2: 'ingress []networking.v1.NetworkPolicyIngressRule',
      3: 'egress []networking.v1.NetworkPolicyEgressRule',
      4: 'policyTypes []string',
    },
    ParentReference: {
      1: 'group string ?',
      2: 'resource string ?',
      3: 'namespace string ?',
      4: 'name string ?',
    },
    ServiceBackendPort: {
      1: 'name string ?',
      2: 'number int32 ?',
    },
    ServiceCIDR: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec networking.v1.ServiceCIDRSpec',
      3: 'status networking.v1.ServiceCIDRStatus',
    },
    ServiceCIDRList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []networking.v1.ServiceCIDR !',
    },
    ServiceCIDRSpec: {
      1: 'cidrs []string',
    },
    ServiceCIDRStatus: {
      1: 'conditions []meta.v1.Condition',
    },
  },
};
