{
  "targets": [
    {
      "target_name": "xfrm_netlink",
      "sources": ["xfrm_netlink.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["xfrm_netlink.c"] }]
      ]
    }
  ]
}
